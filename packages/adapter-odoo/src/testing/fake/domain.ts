/**
 * Odoo domain evaluation for the fake server: Polish-notation domains (`'&'`, `'|'`, `'!'`, implicit
 * `&` between leaves) with the operators the adapter uses, evaluated the way Odoo's SQL would.
 * Failures are raised as {@link OdooFault}s carrying the code and text a real Odoo 18 answers with.
 */

/** A fault the fake answers with: XML-RPC `faultCode` and `faultString`. */
export class OdooFault extends Error {
  /** XML-RPC fault code (1 application error, 2 UserError, 3 AccessDenied, 4 AccessError). */
  readonly faultCode: number;
  constructor(faultCode: number, faultString: string) {
    super(faultString);
    this.faultCode = faultCode;
  }
}

/** Builds the fault code 1 Odoo sends for an unexpected Python exception: the whole traceback. */
export function tracebackFault(exception: string): OdooFault {
  return new OdooFault(
    1,
    [
      'Traceback (most recent call last):',
      '  File "/opt/odoo/odoo/addons/base/controllers/rpc.py", line 164, in xmlrpc_2',
      '    response = self._xmlrpc(service)',
      '  File "/opt/odoo/odoo/service/model.py", line 156, in execute_kw',
      '    return execute(db, uid, obj, method, *args, **kw or {})',
      exception,
      '',
    ].join('\n'),
  );
}

/** A record of the fake: field name to stored value. */
export type FakeRecord = Record<string, unknown>;

/** How the evaluator reads a field of a record, including computed/search-only fields. */
export interface DomainModel {
  /** Model name, for error texts. */
  readonly name: string;
  /** True when the field exists on the model (stored or searchable). */
  hasField(field: string): boolean;
  /** Value used for comparisons (`false` for empty). */
  value(record: FakeRecord, field: string): unknown;
  /**
   * Custom search implementation of a non-stored field (`phone_mobile_search`), as Odoo's
   * `_search_<field>` methods provide. Returns undefined when the field has none.
   */
  customSearch?(
    field: string,
    operator: string,
    value: unknown,
  ): ((record: FakeRecord) => boolean) | undefined;
}

const OPERATORS = new Set([
  '=',
  '!=',
  '<>',
  'ilike',
  'not ilike',
  'like',
  'not like',
  '=like',
  '=ilike',
  'in',
  'not in',
  '<',
  '>',
  '<=',
  '>=',
]);

/**
 * Compiles an Odoo domain into a predicate. Throws an {@link OdooFault} for a malformed domain,
 * an unknown field or operator, like Odoo does (fault 1, `ValueError`).
 */
export function compileDomain(domain: unknown, model: DomainModel): (record: FakeRecord) => boolean {
  if (domain === '' || domain === false || domain === undefined) return () => true;
  if (!Array.isArray(domain)) throw tracebackFault(`ValueError: Invalid domain: ${JSON.stringify(domain)}`);
  let position = 0;
  const parseOne = (): ((record: FakeRecord) => boolean) => {
    const term: unknown = domain[position++];
    if (term === '&' || term === '|') {
      const left = parseOne();
      const right = parseOne();
      return term === '&' ? (r) => left(r) && right(r) : (r) => left(r) || right(r);
    }
    if (term === '!') {
      const inner = parseOne();
      return (r) => !inner(r);
    }
    if (term === undefined) throw tracebackFault('ValueError: Domain is incomplete: missing operand');
    return compileLeaf(term, model);
  };
  const parts: Array<(record: FakeRecord) => boolean> = [];
  while (position < domain.length) parts.push(parseOne());
  return (record) => parts.every((part) => part(record));
}

function compileLeaf(term: unknown, model: DomainModel): (record: FakeRecord) => boolean {
  if (
    !Array.isArray(term) ||
    term.length !== 3 ||
    typeof term[0] !== 'string' ||
    typeof term[1] !== 'string'
  ) {
    throw tracebackFault(`ValueError: Invalid leaf ${JSON.stringify(term)}`);
  }
  const [field, rawOperator, value] = term as [string, string, unknown];
  const operator = rawOperator.toLowerCase();
  if (!OPERATORS.has(operator)) {
    throw tracebackFault(`ValueError: Invalid leaf ${JSON.stringify(term)}: unknown operator`);
  }
  if (field === '1' || field === '0') {
    // Odoo's TRUE_LEAF / FALSE_LEAF: (1, '=', 1)
    const truth = field === '1';
    return () => truth;
  }
  if (!model.hasField(field)) {
    throw tracebackFault(
      `ValueError: Invalid field ${model.name}.${field} in leaf ('${field}', '${rawOperator}', ${pythonRepr(value)})`,
    );
  }
  const custom = model.customSearch?.(field, operator, value);
  if (custom) return custom;
  if (operator.endsWith('like') && value !== false) {
    // compiled once per leaf, not once per record
    const anchored = operator.startsWith('=');
    const regexp = likeToRegExp(anchored ? String(value) : `%${String(value)}%`, operator.includes('ilike'));
    const negative = operator.startsWith('not');
    return (record) => {
      const stored = model.value(record, field);
      const hit = typeof stored === 'string' && regexp.test(stored);
      return negative ? !hit : hit;
    };
  }
  return (record) => compare(model.value(record, field), operator, value);
}

function pythonRepr(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** SQL `LIKE` pattern (`%`, `_` wildcards, not escaped: Odoo does not escape them in `ilike`). */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
}

function scalar(value: unknown): unknown {
  // many2one values are stored as ids; [id, name] pairs compare on the id
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0];
  return value;
}

function compare(stored: unknown, operator: string, value: unknown): boolean {
  const left = scalar(stored);
  switch (operator) {
    case '=':
      return value === false ? left === false || left === undefined || left === '' : left === value;
    case '!=':
    case '<>':
      return !compare(stored, '=', value);
    case 'in':
    case 'not in': {
      const list = Array.isArray(value) ? value : [value];
      const found = list.some((item) => left === item || (item === false && left === false));
      return operator === 'in' ? found : !found;
    }
    case 'like':
    case 'ilike':
    case 'not like':
    case 'not ilike': {
      if (value === false) return operator.startsWith('not') ? left !== false : left === false;
      const regexp = likeToRegExp(`%${String(value)}%`, operator.includes('ilike'));
      const hit = typeof left === 'string' && regexp.test(left);
      return operator.startsWith('not') ? !hit : hit;
    }
    case '=like':
    case '=ilike':
      return typeof left === 'string' && likeToRegExp(String(value), operator === '=ilike').test(left);
    case '<':
      return (left as number) < (value as number);
    case '>':
      return (left as number) > (value as number);
    case '<=':
      return (left as number) <= (value as number);
    case '>=':
      return (left as number) >= (value as number);
    default:
      return false;
  }
}

const PHONE_SEPARATORS = /[\s\\./()-]/g;

/**
 * `phone_mobile_search` as Odoo 16–18's `mail.thread.phone` implements it: separators are stripped
 * on both sides; a value starting with `+` or `00` matches both international forms (a prefix
 * match for like operators); any other value is a substring match. Fewer than 3 characters is a
 * UserError (fault 2).
 */
export function phoneMobileSearch(
  numberFields: readonly string[],
  operator: string,
  value: unknown,
): (record: FakeRecord) => boolean {
  if (typeof value !== 'string') {
    throw tracebackFault(`ValueError: Invalid value for phone search: ${pythonRepr(value)}`);
  }
  const trimmed = value.trim();
  if (trimmed.length < 3) {
    throw new OdooFault(2, 'Please enter at least 3 characters when searching a Phone/Mobile number.');
  }
  const negative = operator === '!=' || operator.startsWith('not');
  const exact = operator === '=' || operator === '!=';
  const likeOp = operator.includes('ilike') ? 'ilike' : 'like';
  const ci = likeOp === 'ilike';
  let matches: (clean: string) => boolean;
  if (trimmed.startsWith('+') || trimmed.startsWith('00')) {
    const term = trimmed.slice(trimmed.startsWith('+') ? 1 : 2).replace(PHONE_SEPARATORS, '');
    const candidates = [`00${term}`, `+${term}`];
    const patterns = candidates.map((candidate) => likeToRegExp(`${candidate}%`, ci));
    matches = exact
      ? (clean) => candidates.includes(clean)
      : (clean) => patterns.some((pattern) => pattern.test(clean));
  } else {
    const term = trimmed.replace(PHONE_SEPARATORS, '');
    const pattern = likeToRegExp(`%${term}%`, ci);
    matches = exact ? (clean) => clean === term : (clean) => pattern.test(clean);
  }
  return (record) => {
    const hit = numberFields.some((field) => {
      const stored = record[field];
      return typeof stored === 'string' && stored !== '' && matches(stored.replace(PHONE_SEPARATORS, ''));
    });
    return negative ? !hit : hit;
  };
}
