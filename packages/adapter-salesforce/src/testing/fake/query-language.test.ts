import { describe, expect, it } from 'vitest';
import { FakeOrg, SfError } from './org.js';
import { parseSearchTerms, parseSoql, parseSosl, QuerySyntaxError } from './query-language.js';

describe('fake SOSL parser', () => {
  it('reads scope, RETURNING specs with WHERE/LIMIT, and OR groups', () => {
    const query = parseSosl(
      'FIND {612345678 OR 0612345678} IN PHONE FIELDS RETURNING Contact(Id, Account.Name LIMIT 5), Lead(Id WHERE IsConverted = false) LIMIT 20',
    );
    expect(query.scope).toBe('PHONE');
    expect(query.terms.map((group) => group.map((t) => t.text))).toEqual([['612345678'], ['0612345678']]);
    expect(query.returning.map((r) => [r.object, r.fields, r.limit])).toEqual([
      ['Contact', ['Id', 'Account.Name'], 5],
      ['Lead', ['Id'], undefined],
    ]);
    expect(query.returning[1]?.where).toEqual({ op: 'cmp', field: 'IsConverted', cmp: '=', value: false });
    expect(query.limit).toBe(20);
  });

  it('rejects unescaped reserved characters, even inside quotes, and accepts them escaped', () => {
    for (const raw of ['+336', '"+336"', 'a-b', 'a&&b', 'x^2', '~x', 'a:b', "it's", 'a[0]']) {
      expect(() => parseSearchTerms(raw), raw).toThrow(QuerySyntaxError);
    }
    expect(parseSearchTerms('\\+336 "big \\- deal" acme*').flat()).toEqual([
      { text: '+336', phrase: false, prefix: false, negate: false },
      { text: 'big - deal', phrase: true, prefix: false, negate: false },
      { text: 'acme', phrase: false, prefix: true, negate: false },
    ]);
    expect(() => parseSosl('FIND 612345678 IN PHONE FIELDS')).toThrow(/braces/);
    expect(() => parseSosl('FIND {a} OR')).toThrow(QuerySyntaxError);
  });
});

describe('fake SOQL', () => {
  it('parses and evaluates =, !=, IN, NOT IN, LIKE, AND/OR with parentheses, ORDER BY and LIMIT', () => {
    const org = new FakeOrg(() => '62.0');
    for (const [name, phone] of [
      ['Ann', '1'],
      ['Bob', '2'],
      ['Bea', '3'],
      ["O'Hara", '4'],
    ]) {
      org.insert('Account', { Name: name, Phone: phone });
    }
    const names = (soql: string) => org.query(soql).records.map((r) => r.Name);
    expect(names("SELECT Name FROM Account WHERE Name LIKE 'B%' ORDER BY Name DESC")).toEqual(['Bob', 'Bea']);
    expect(names("SELECT Name FROM Account WHERE Phone IN ('1', '4') ORDER BY Name")).toEqual([
      'Ann',
      "O'Hara",
    ]);
    expect(names("SELECT Name FROM Account WHERE Name = 'O\\'Hara'")).toEqual(["O'Hara"]);
    expect(
      names("SELECT Name FROM Account WHERE (Name = 'Ann' OR Name = 'Bob') AND Phone != '1' LIMIT 5"),
    ).toEqual(['Bob']);
    expect(names("SELECT Name FROM Account WHERE Phone NOT IN ('1','2','3')")).toEqual(["O'Hara"]);
    expect(parseSoql('SELECT Id FROM Task LIMIT 3')).toMatchObject({ object: 'Task', limit: 3 });
  });

  it('reports malformed queries and unknown objects the way Salesforce does', () => {
    const org = new FakeOrg(() => '62.0');
    const codeOf = (soql: string) => {
      try {
        org.query(soql);
      } catch (error) {
        return (error as SfError).errorCode;
      }
      return 'ok';
    };
    expect(codeOf("SELECT Id FROM Account WHERE Name = 'x' OR")).toBe('MALFORMED_QUERY');
    expect(codeOf('SELECT Id FROM Nothing__c')).toBe('INVALID_TYPE');
    expect(codeOf('SELECT Id, Owner.Bogus FROM Account')).toBe('INVALID_FIELD');
    expect(codeOf('SELECT Id, Owner.Name FROM Account')).toBe('ok');
    expect(new SfError(400, 'X', 'm').toElement()).toEqual({ message: 'm', errorCode: 'X' });
  });
});
