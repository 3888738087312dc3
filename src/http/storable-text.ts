/**
 * Strings that PostgreSQL cannot store, found before any handler sees them, for both surfaces:
 * the NUL character (text refuses 0x00, jsonb refuses \u0000: the query fails and the request
 * would be a 500) and unpaired UTF-16 surrogates (no UTF-8 form: the driver would silently
 * store U+FFFD instead, so what is read back is not what was sent).
 */

export type TextProblem = 'nul' | 'surrogate'

export const TEXT_PROBLEM_MESSAGES: Record<TextProblem, string> = {
  nul: 'must not contain the NUL character (U+0000)',
  surrogate: 'must not contain an unpaired UTF-16 surrogate (not valid Unicode)',
}

// Without the u flag the pattern sees UTF-16 code units, which is what a lone surrogate is.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export function textProblem(value: string): TextProblem | undefined {
  if (value.includes('\u0000')) return 'nul'
  return LONE_SURROGATE.test(value) ? 'surrogate' : undefined
}

export interface UnstorableText {
  /** Object keys and array indexes from the root to the offending string (or to the object whose key it is). */
  path: (string | number)[]
  problem: TextProblem
  /** True when an object key, not a value, is the offending string. */
  inKey: boolean
}

interface Frame { value: unknown, key: string | number | undefined, parent: Frame | undefined }

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = []
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) path.unshift(at.key)
  return path
}

/**
 * The first unstorable string in a parsed JSON value (keys included), or undefined. Iterative,
 * so a deeply nested body cannot overflow the stack.
 */
export function findUnstorableText(root: unknown): UnstorableText | undefined {
  const stack: Frame[] = [{ value: root, key: undefined, parent: undefined }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    const { value } = frame
    if (typeof value === 'string') {
      const problem = textProblem(value)
      if (problem) return { path: pathOf(frame), problem, inKey: false }
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: frame })
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value)
      for (const key of keys) {
        const problem = textProblem(key)
        if (problem) return { path: pathOf(frame), problem, inKey: true }
      }
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (value as Record<string, unknown>)[keys[i]], key: keys[i], parent: frame })
    }
  }
  return undefined
}
