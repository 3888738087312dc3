/**
 * ISO 8601 durations (Contember's `Interval` scalar) as milliseconds. Calendar units are taken
 * at fixed lengths (a month = 30 days, a year = 365 days), which is all a lifetime or a window
 * needs.
 */
const ISO_DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Milliseconds of an ISO 8601 duration, or null when it is not one. */
export function intervalMs(value: string): number | null {
  const match = ISO_DURATION.exec(value)
  if (!match) return null
  const [, years, months, weeks, days, hours, minutes, seconds] = match.map((part) => (part === undefined ? 0 : Number(part)))
  return Math.round(years * 365 * DAY + months * 30 * DAY + weeks * 7 * DAY + days * DAY + hours * HOUR + minutes * MINUTE + seconds * SECOND)
}

/** The canonical interval for whole minutes, e.g. 30 → PT30M. */
export function minutesInterval(minutes: number): string {
  return `PT${minutes}M`
}
