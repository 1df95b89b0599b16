/**
 * The subset of SOQL and SOSL the fake Salesforce understands, parsed the strict way Salesforce
 * does: an unescaped reserved character in a SOSL search term, or an unknown escape in a SOQL
 * string literal, is a syntax error, never a silently widened query.
 */

/** A syntax error, reported by the fake as `MALFORMED_QUERY` or `MALFORMED_SEARCH`. */
export class QuerySyntaxError extends Error {
  override readonly name = 'QuerySyntaxError';
}

/** A literal value in a condition. */
export type Literal = string | number | boolean | null;

/** A WHERE condition. */
export type Condition =
  | { readonly op: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly op: 'not'; readonly inner: Condition }
  | {
      readonly op: 'cmp';
      readonly field: string;
      readonly cmp: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like';
      readonly value: Literal;
    }
  | {
      readonly op: 'in';
      readonly field: string;
      readonly values: readonly Literal[];
      readonly negate: boolean;
    };

/** ORDER BY item. */
export interface OrderBy {
  readonly field: string;
  readonly descending: boolean;
  readonly nullsLast: boolean;
}

/** A parsed SOQL SELECT. */
export interface SoqlQuery {
  readonly fields: readonly string[];
  readonly object: string;
  readonly where?: Condition;
  readonly orderBy: readonly OrderBy[];
  readonly limit?: number;
}

/** A search-term expression: OR of AND-groups of (possibly negated) terms. */
export interface SearchTerm {
  /** The term with escapes removed. */
  readonly text: string;
  readonly phrase: boolean;
  /** Trailing `*` wildcard (prefix match). */
  readonly prefix: boolean;
  readonly negate: boolean;
}

/** One object of a SOSL RETURNING clause. */
export interface ReturningSpec {
  readonly object: string;
  readonly fields: readonly string[];
  readonly where?: Condition;
  readonly orderBy: readonly OrderBy[];
  readonly limit?: number;
}

/** A parsed SOSL FIND. */
export interface SoslQuery {
  /** Disjunction of conjunctions. */
  readonly terms: readonly (readonly SearchTerm[])[];
  readonly scope: 'ALL' | 'NAME' | 'EMAIL' | 'PHONE' | 'SIDEBAR';
  readonly returning: readonly ReturningSpec[];
  readonly limit?: number;
}

type Token =
  | { readonly kind: 'ident'; readonly value: string; readonly pos: number }
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'number'; readonly value: number; readonly pos: number }
  | { readonly kind: 'punct'; readonly value: string; readonly pos: number }
  | { readonly kind: 'search'; readonly value: string; readonly pos: number };

const SOQL_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  _: '\\_',
  '%': '\\%',
};

/** `2026-01-05T09:00:00Z`, `2026-01-05T09:00:00.000+0000`, `2026-01-05T10:00:00+01:00`. */
const DATETIME_LITERAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})/;

function tokenize(text: string, allowSearchBlock: boolean): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let value = '';
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === '\\') {
          const next = text[i + 1];
          const mapped = next === undefined ? undefined : SOQL_ESCAPES[next];
          if (mapped === undefined) {
            throw new QuerySyntaxError(
              `Invalid string literal '${text.slice(start, Math.min(text.length, i + 2))}'. Illegal escape sequence`,
            );
          }
          value += mapped;
          i += 2;
          continue;
        }
        if (ch === "'") {
          closed = true;
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (!closed)
        throw new QuerySyntaxError(`unexpected token: end of query in a string literal at ${start}`);
      tokens.push({ kind: 'string', value, pos: start });
      continue;
    }
    if (c === '{' && allowSearchBlock) {
      i++;
      let raw = '';
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === '\\') {
          raw += ch + (text[i + 1] ?? '');
          i += 2;
          continue;
        }
        if (ch === '}') {
          closed = true;
          i++;
          break;
        }
        raw += ch;
        i++;
      }
      if (!closed)
        throw new QuerySyntaxError('No search term found. The search term must be enclosed in braces.');
      tokens.push({ kind: 'search', value: raw, pos: start });
      continue;
    }
    // a datetime literal (unquoted, as SOQL writes them): compared as the stored form
    const datetime = DATETIME_LITERAL.exec(text.slice(i));
    if (datetime) {
      const date = new Date(datetime[0]);
      if (Number.isNaN(date.getTime())) throw new QuerySyntaxError(`invalid date: ${datetime[0]}`);
      tokens.push({ kind: 'string', value: date.toISOString().replace('Z', '+0000'), pos: start });
      i += datetime[0].length;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      i++;
      while (i < text.length && /[0-9.]/.test(text[i] as string)) i++;
      tokens.push({ kind: 'number', value: Number(text.slice(start, i)), pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      i++;
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i] as string)) i++;
      tokens.push({ kind: 'ident', value: text.slice(start, i), pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'punct', value: two === '<>' ? '!=' : two, pos: start });
      i += 2;
      continue;
    }
    if ('(),=<>'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, pos: start });
      i++;
      continue;
    }
    throw new QuerySyntaxError(`unexpected token: '${c}' at column ${i + 1}`);
  }
  return tokens;
}

class Cursor {
  private index = 0;
  constructor(private readonly tokens: readonly Token[]) {}
  peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }
  next(): Token {
    const token = this.tokens[this.index];
    if (!token) throw new QuerySyntaxError('unexpected token: end of query');
    this.index++;
    return token;
  }
  done(): boolean {
    return this.index >= this.tokens.length;
  }
  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'ident' && token.value.toUpperCase() === word;
  }
  isPunct(value: string): boolean {
    const token = this.peek();
    return token?.kind === 'punct' && token.value === value;
  }
  keyword(word: string): void {
    const token = this.next();
    if (token.kind !== 'ident' || token.value.toUpperCase() !== word)
      throw new QuerySyntaxError(`unexpected token: '${describe(token)}', expecting ${word}`);
  }
  punct(value: string): void {
    const token = this.next();
    if (token.kind !== 'punct' || token.value !== value)
      throw new QuerySyntaxError(`unexpected token: '${describe(token)}', expecting '${value}'`);
  }
  ident(): string {
    const token = this.next();
    if (token.kind !== 'ident') throw new QuerySyntaxError(`unexpected token: '${describe(token)}'`);
    return token.value;
  }
}

function describe(token: Token): string {
  return token.kind === 'string' ? `'${token.value}'` : String(token.value);
}

const CLAUSE_KEYWORDS = new Set([
  'WHERE',
  'ORDER',
  'LIMIT',
  'FROM',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'OFFSET',
]);

function parseFieldList(cursor: Cursor): string[] {
  const fields = [cursor.ident()];
  while (cursor.isPunct(',')) {
    cursor.next();
    fields.push(cursor.ident());
  }
  for (const field of fields) {
    if (CLAUSE_KEYWORDS.has(field.toUpperCase())) throw new QuerySyntaxError(`unexpected token: '${field}'`);
  }
  return fields;
}

function parseLiteral(cursor: Cursor): Literal {
  const token = cursor.next();
  if (token.kind === 'string' || token.kind === 'number') return token.value;
  if (token.kind === 'ident') {
    const upper = token.value.toUpperCase();
    if (upper === 'TRUE') return true;
    if (upper === 'FALSE') return false;
    if (upper === 'NULL') return null;
    if (upper === 'TODAY') return new Date().toISOString().slice(0, 10);
  }
  throw new QuerySyntaxError(`unexpected token: '${describe(token)}', expecting a value`);
}

function parsePrimary(cursor: Cursor): Condition {
  if (cursor.isKeyword('NOT')) {
    cursor.next();
    return { op: 'not', inner: parsePrimary(cursor) };
  }
  if (cursor.isPunct('(')) {
    cursor.next();
    const inner = parseCondition(cursor);
    cursor.punct(')');
    return inner;
  }
  const field = cursor.ident();
  if (cursor.isKeyword('IN') || (cursor.isKeyword('NOT') && cursor.isKeyword('IN', 1))) {
    const negate = cursor.isKeyword('NOT');
    if (negate) cursor.next();
    cursor.next();
    cursor.punct('(');
    const values = [parseLiteral(cursor)];
    while (cursor.isPunct(',')) {
      cursor.next();
      values.push(parseLiteral(cursor));
    }
    cursor.punct(')');
    return { op: 'in', field, values, negate };
  }
  if (cursor.isKeyword('LIKE')) {
    cursor.next();
    return { op: 'cmp', field, cmp: 'like', value: parseLiteral(cursor) };
  }
  const opToken = cursor.next();
  if (opToken.kind !== 'punct' || !['=', '!=', '<', '>', '<=', '>='].includes(opToken.value)) {
    throw new QuerySyntaxError(`unexpected token: '${describe(opToken)}', expecting an operator`);
  }
  return {
    op: 'cmp',
    field,
    cmp: opToken.value as '=' | '!=' | '<' | '>' | '<=' | '>=',
    value: parseLiteral(cursor),
  };
}

function parseCondition(cursor: Cursor): Condition {
  let left = parsePrimary(cursor);
  while (cursor.isKeyword('AND') || cursor.isKeyword('OR')) {
    const op = cursor.ident().toLowerCase() as 'and' | 'or';
    const right = parsePrimary(cursor);
    left = { op, left, right };
  }
  return left;
}

function parseWhere(cursor: Cursor): Condition | undefined {
  if (!cursor.isKeyword('WHERE')) return undefined;
  cursor.next();
  return parseCondition(cursor);
}

function parseOrderBy(cursor: Cursor): OrderBy[] {
  const items: OrderBy[] = [];
  if (!cursor.isKeyword('ORDER')) return items;
  cursor.next();
  cursor.keyword('BY');
  do {
    if (items.length > 0) cursor.next();
    const field = cursor.ident();
    let descending = false;
    if (cursor.isKeyword('ASC')) cursor.next();
    else if (cursor.isKeyword('DESC')) {
      cursor.next();
      descending = true;
    }
    let nullsLast = descending;
    if (cursor.isKeyword('NULLS')) {
      cursor.next();
      const which = cursor.ident().toUpperCase();
      if (which !== 'FIRST' && which !== 'LAST') throw new QuerySyntaxError(`unexpected token: '${which}'`);
      nullsLast = which === 'LAST';
    }
    items.push({ field, descending, nullsLast });
  } while (cursor.isPunct(','));
  return items;
}

function parseLimit(cursor: Cursor): number | undefined {
  if (!cursor.isKeyword('LIMIT')) return undefined;
  cursor.next();
  const token = cursor.next();
  if (token.kind !== 'number' || !Number.isInteger(token.value) || token.value < 0) {
    throw new QuerySyntaxError(`unexpected token: '${describe(token)}', expecting a LIMIT number`);
  }
  return token.value;
}

/** Parses `SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT n]`. Throws {@link QuerySyntaxError}. */
export function parseSoql(text: string): SoqlQuery {
  const cursor = new Cursor(tokenize(text, false));
  cursor.keyword('SELECT');
  const fields = parseFieldList(cursor);
  cursor.keyword('FROM');
  const object = cursor.ident();
  const where = parseWhere(cursor);
  const orderBy = parseOrderBy(cursor);
  const limit = parseLimit(cursor);
  if (!cursor.done()) throw new QuerySyntaxError(`unexpected token: '${describe(cursor.next())}'`);
  return { fields, object, ...(where ? { where } : {}), orderBy, ...(limit !== undefined ? { limit } : {}) };
}

/** Characters Salesforce reserves in a search term; `"`, `*` and `?` keep their search meaning unescaped. */
const RESERVED = new Set(['&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '~', ':', "'", '+', '-']);

/** Parses the text between the braces of FIND into an OR of AND groups. */
export function parseSearchTerms(raw: string): SearchTerm[][] {
  const words: Array<{ text: string; phrase: boolean; prefix: boolean; operator?: string }> = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let text = '';
      i++;
      let closed = false;
      while (i < raw.length) {
        const ch = raw[i] as string;
        if (ch === '\\') {
          text += raw[i + 1] ?? '';
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (RESERVED.has(ch)) {
          throw new QuerySyntaxError(
            `line 1:${i + 6} no viable alternative at character '${ch}': reserved characters must be escaped with a backslash, even inside quotes`,
          );
        }
        text += ch;
        i++;
      }
      if (!closed) throw new QuerySyntaxError('unmatched quote in the search term');
      words.push({ text, phrase: true, prefix: false });
      continue;
    }
    let text = '';
    let prefix = false;
    while (i < raw.length && !/\s/.test(raw[i] as string) && raw[i] !== '"') {
      const ch = raw[i] as string;
      if (ch === '\\') {
        const next = raw[i + 1];
        if (next === undefined) throw new QuerySyntaxError('search term ends with a lone backslash');
        text += next;
        i += 2;
        continue;
      }
      if (RESERVED.has(ch)) {
        throw new QuerySyntaxError(
          `line 1:${i + 6} no viable alternative at character '${ch}': reserved characters must be escaped with a backslash`,
        );
      }
      if (ch === '*') {
        prefix = true;
        i++;
        continue;
      }
      if (ch !== '?') text += ch;
      i++;
    }
    const upper = text.toUpperCase();
    if (!prefix && (upper === 'AND' || upper === 'OR' || upper === 'NOT')) {
      words.push({ text, phrase: false, prefix: false, operator: upper });
    } else {
      words.push({ text, phrase: false, prefix });
    }
  }
  const groups: SearchTerm[][] = [[]];
  let negateNext = false;
  let expectTerm = true;
  for (const word of words) {
    if (word.operator === 'OR') {
      if (expectTerm) throw new QuerySyntaxError('search term: OR without a term before it');
      groups.push([]);
      expectTerm = true;
      continue;
    }
    if (word.operator === 'AND') {
      if (expectTerm) throw new QuerySyntaxError('search term: AND without a term before it');
      expectTerm = true;
      continue;
    }
    if (word.operator === 'NOT') {
      negateNext = true;
      continue;
    }
    if (word.text.replace(/\s/g, '').length < 2 && !word.prefix) {
      throw new QuerySyntaxError('search term must be longer than one character');
    }
    (groups[groups.length - 1] as SearchTerm[]).push({
      text: word.text,
      phrase: word.phrase,
      prefix: word.prefix,
      negate: negateNext,
    });
    negateNext = false;
    expectTerm = false;
  }
  if (expectTerm) throw new QuerySyntaxError('search term is empty or ends with an operator');
  return groups;
}

/** Parses `FIND {…} [IN x FIELDS] [RETURNING Obj(fields …), …] [LIMIT n]`. Throws {@link QuerySyntaxError}. */
export function parseSosl(text: string): SoslQuery {
  const cursor = new Cursor(tokenize(text, true));
  cursor.keyword('FIND');
  const block = cursor.next();
  if (block.kind !== 'search') {
    throw new QuerySyntaxError('No search term found. The search term must be enclosed in braces.');
  }
  const terms = parseSearchTerms(block.value);
  let scope: SoslQuery['scope'] = 'ALL';
  if (cursor.isKeyword('IN')) {
    cursor.next();
    const which = cursor.ident().toUpperCase();
    if (!['ALL', 'NAME', 'EMAIL', 'PHONE', 'SIDEBAR'].includes(which)) {
      throw new QuerySyntaxError(`unexpected token: '${which}', expecting a search group`);
    }
    scope = which as SoslQuery['scope'];
    cursor.keyword('FIELDS');
  }
  const returning: ReturningSpec[] = [];
  if (cursor.isKeyword('RETURNING')) {
    cursor.next();
    do {
      if (returning.length > 0) cursor.next();
      const object = cursor.ident();
      if (!cursor.isPunct('(')) {
        returning.push({ object, fields: ['Id'], orderBy: [] });
        continue;
      }
      cursor.next();
      const fields = parseFieldList(cursor);
      const where = parseWhere(cursor);
      const orderBy = parseOrderBy(cursor);
      const limit = parseLimit(cursor);
      cursor.punct(')');
      returning.push({
        object,
        fields,
        ...(where ? { where } : {}),
        orderBy,
        ...(limit !== undefined ? { limit } : {}),
      });
    } while (cursor.isPunct(','));
  }
  const limit = parseLimit(cursor);
  if (!cursor.done()) throw new QuerySyntaxError(`unexpected token: '${describe(cursor.next())}'`);
  return { terms, scope, returning, ...(limit !== undefined ? { limit } : {}) };
}
