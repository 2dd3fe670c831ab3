/**
 * Money: TikTok sends amounts as decimal strings ("21.3"); the domain counts minor units. Parsed
 * digit by digit so no float rounding creeps in.
 *
 * @internal
 */

const exponents = new Map<string, number>()

/** Minor-unit digits of an ISO 4217 currency (2 when the runtime does not know it). */
export const exponentOf = (currency: string): number => {
  const code = currency.toUpperCase()
  const cached = exponents.get(code)
  if (cached !== undefined) return cached
  let digits = 2
  try {
    digits =
      new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    digits = 2
  }
  exponents.set(code, digits)
  return digits
}

/** A decimal amount in minor units, or `undefined` when it is not a plain decimal or has sub-minor digits. */
export const toMinorUnits = (amount: string | undefined, currency: string | undefined): number | undefined => {
  if (amount === undefined || currency === undefined) return undefined
  const m = /^(\d+)(?:\.(\d+))?$/.exec(amount.trim())
  if (m === null) return undefined
  const exponent = exponentOf(currency)
  const whole = m[1]!
  const fraction = (m[2] ?? "").replace(/0+$/, "")
  if (fraction.length > exponent) return undefined
  const value = Number(whole + fraction.padEnd(exponent, "0"))
  return Number.isSafeInteger(value) ? value : undefined
}
