/**
 * updateProject(mergeConfig: true): objects merge key by key, recursively; anything else (arrays,
 * scalars, null) replaces. Keys are defined as own properties, so "__proto__" in client JSON
 * stays data and never reaches a prototype.
 */
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch
  const keys = new Set([...Object.keys(base), ...Object.keys(patch)])
  return Object.fromEntries([...keys].map((key) => [
    key,
    Object.hasOwn(patch, key) ? deepMerge(base[key], patch[key]) : base[key],
  ]))
}
