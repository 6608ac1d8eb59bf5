import { Either, ParseResult, Schema, type SchemaAST } from "effect"
import { ConfigError } from "./errors.js"

const describePath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc === "" ? String(p) : `${acc}.${String(p)}`),
    ""
  )

/**
 * Decodes `input` with `schema`, rejecting unknown keys, and turns the first issue into a
 * ConfigError that names the file and the key path (e.g. `training.params.n_estimatorz`).
 */
export const decodeStrict = <A, I>(
  schema: Schema.Schema<A, I>,
  input: unknown,
  file: string,
  prefix: ReadonlyArray<PropertyKey> = []
): Either.Either<A, ConfigError> => {
  const result = Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })(input)
  if (Either.isRight(result)) return Either.right(result.right)
  const issues = ParseResult.ArrayFormatter.formatErrorSync(result.left)
  // An unknown key is the most useful thing to report first: it is usually a typo.
  const sorted = [...issues].sort((a, b) => rank(a) - rank(b))
  const first = sorted[0]!
  const path = [...prefix, ...first.path]
  const key = describePath(path)
  const message =
    first._tag === "Unexpected"
      ? `unknown key "${key}"${suggest(first.path, schema.ast)}`
      : first._tag === "Missing"
        ? `missing required key "${key}"`
        : `invalid value at "${key}": ${first.message}`
  return Either.left(new ConfigError({ file, key, message }))
}

const rank = (i: ParseResult.ArrayFormatterIssue) => (i._tag === "Unexpected" ? 0 : i._tag === "Missing" ? 1 : 2)

// Close matches for a mistyped key, e.g. "n_estimatorz" → "n_estimators".
const suggest = (path: ReadonlyArray<PropertyKey>, ast: SchemaAST.AST): string => {
  const name = String(path[path.length - 1])
  const known = keysAt(ast, path.slice(0, -1))
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const d = levenshtein(name, k)
    if (d < bestD) {
      bestD = d
      best = k
    }
  }
  const ok = best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3))
  return ok ? ` (did you mean "${best}"?)` : known.length > 0 ? ` (known keys: ${known.join(", ")})` : ""
}

/** The property names a schema accepts at `path` of its encoded input. */
const keysAt = (ast: SchemaAST.AST, path: ReadonlyArray<PropertyKey>): Array<string> => {
  const out = new Set<string>()
  const visit = (a: SchemaAST.AST, rest: ReadonlyArray<PropertyKey>, depth: number): void => {
    if (depth > 40) return
    switch (a._tag) {
      case "Transformation":
        return visit(a.from, rest, depth + 1)
      case "Refinement":
        return visit(a.from, rest, depth + 1)
      case "Suspend":
        return visit(a.f(), rest, depth + 1)
      case "Union":
        for (const t of a.types) visit(t, rest, depth + 1)
        return
      case "TypeLiteral": {
        if (rest.length === 0) {
          for (const ps of a.propertySignatures) out.add(String(ps.name))
          return
        }
        const [head, ...tail] = rest
        for (const ps of a.propertySignatures) if (ps.name === head) visit(ps.type, tail, depth + 1)
        for (const ix of a.indexSignatures) visit(ix.type, tail, depth + 1)
        return
      }
      case "TupleType": {
        if (rest.length === 0) return
        const [, ...tail] = rest
        for (const r of a.rest) visit(r.type, tail, depth + 1)
        for (const e of a.elements) visit(e.type, tail, depth + 1)
        return
      }
      default:
        return
    }
  }
  visit(ast, path, 0)
  return [...out].sort()
}

export const levenshtein = (a: string, b: string): number => {
  const m = a.length,
    n = b.length
  const d = Array.from({ length: n + 1 }, (_, j) => j)
  for (let i = 1; i <= m; i++) {
    let prev = d[0]!
    d[0] = i
    for (let j = 1; j <= n; j++) {
      const t = d[j]!
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = t
    }
  }
  return d[n]!
}
