/**
 * StockDecision: what to publish to a channel that supports compare-and-set, when the channel's own
 * count moves underneath tkbridge — a sale in the shop whose order has not reached the pool yet, a
 * manual edit in the platform's admin, a restock typed in by hand.
 *
 * Pure functions, no I/O. The engine keeps a {@link ChannelBalance} per listing and location:
 *
 * - `held`: units the channel gave away that the pool has not seen as orders yet. A stale write
 *   reveals them (the channel shows less than tkbridge last wrote); they are taken off what is
 *   published until their orders arrive ({@link orderSeen}) or the reconciliation window passes
 *   (the orders never came: a manual correction, not a sale).
 * - `credit`: units of orders from this channel the pool already applied whose drop on the channel
 *   no stale write has revealed yet — the usual order of events (the shop sells, its webhook arrives,
 *   the pool publishes less, the next write finds the shop lower than last written). A later drop is
 *   matched against the credit first, so an order that arrived in time never holds units back twice.
 *
 * The rules never publish more than the pool allows: a channel showing more than was written (a
 * manual restock there) never raises what is published, and a drop is only forgiven by the order it
 * stands for or by the window.
 *
 * @since 0.1.0
 */

/**
 * What the engine remembers about one listing on one channel location between writes.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChannelBalance {
  /** Units the channel gave away whose orders the pool has not applied yet. */
  readonly held: number
  /** When `held` is dropped if the orders never arrive (epoch milliseconds; 0 when nothing is held). */
  readonly heldUntil: number
  /** Units of this channel's orders the pool applied whose drop on the channel is not revealed yet. */
  readonly credit: number
  /** When `credit` is dropped (epoch milliseconds; 0 when there is none). */
  readonly creditUntil: number
}

/**
 * Nothing held, no credit.
 *
 * @category constructors
 * @since 0.1.0
 */
export const emptyBalance: ChannelBalance = { held: 0, heldUntil: 0, credit: 0, creditUntil: 0 }

const whole = (n: number): number => Math.max(0, Math.floor(n))

/**
 * The balance in force at `now`: parts whose window has passed are dropped.
 *
 * @category constructors
 * @since 0.1.0
 */
export const current = (balance: ChannelBalance, now: number): ChannelBalance => {
  const heldLive = balance.held > 0 && balance.heldUntil > now
  const creditLive = balance.credit > 0 && balance.creditUntil > now
  return {
    held: heldLive ? whole(balance.held) : 0,
    heldUntil: heldLive ? balance.heldUntil : 0,
    credit: creditLive ? whole(balance.credit) : 0,
    creditUntil: creditLive ? balance.creditUntil : 0
  }
}

/**
 * True when two balances hold the same units (windows aside).
 *
 * @category predicates
 * @since 0.1.0
 */
export const sameUnits = (a: ChannelBalance, b: ChannelBalance): boolean => a.held === b.held && a.credit === b.credit

/**
 * The quantity to publish when the pool allows `published`: the pool's number less the units held
 * for sales the pool has not seen yet, never below 0.
 *
 * @category constructors
 * @since 0.1.0
 */
export const publishable = (published: number, balance: ChannelBalance, now: number): number =>
  Math.max(0, whole(published) - current(balance, now).held)

/**
 * The pool applied `units` of an order from this channel for this listing: they release units held
 * for it, and whatever is left becomes credit for the drop the next stale write will reveal.
 *
 * @category constructors
 * @since 0.1.0
 */
export const orderSeen = (
  balance: ChannelBalance,
  input: { readonly units: number; readonly now: number; readonly windowMs: number }
): ChannelBalance => {
  const b = current(balance, input.now)
  const units = whole(input.units)
  const released = Math.min(b.held, units)
  const rest = units - released
  const held = b.held - released
  return {
    held,
    heldUntil: held > 0 ? b.heldUntil : 0,
    credit: b.credit + rest,
    creditUntil: rest > 0 ? input.now + input.windowMs : b.creditUntil
  }
}

/**
 * What a stale compare-and-set tells, and what to write next.
 *
 * @category models
 * @since 0.1.0
 */
export interface StaleInput {
  /** The quantity the pool allows this listing now. */
  readonly published: number
  /** The quantity the write expected the channel to hold (the last one tkbridge knew). */
  readonly expected?: number | undefined
  /** What the channel holds now (`Stale.actual`). */
  readonly actual: number
  readonly balance: ChannelBalance
  readonly now: number
  /** How long revealed units stay held when their orders never arrive (the reconciliation window). */
  readonly windowMs: number
}

/**
 * The next write after a stale compare-and-set.
 *
 * @category models
 * @since 0.1.0
 */
export interface StaleDecision {
  /** The quantity to write. Never more than `published`. */
  readonly quantity: number
  /** The compare-and-set value of that write: what the channel holds now. */
  readonly expected: number
  /** Units this stale write revealed as given away by the channel and not yet seen as orders. */
  readonly unseen: number
  /** False when the channel already shows `quantity` (nothing to write). */
  readonly write: boolean
  /** The balance to keep from now on. */
  readonly balance: ChannelBalance
}

/**
 * Decides the write after a stale compare-and-set. The channel below what tkbridge expected means it
 * gave units away: those the pool already saw as orders (credit) are settled, the rest are held
 * until their orders arrive. The channel above what was expected never raises what is published.
 *
 * @category constructors
 * @since 0.1.0
 */
export const afterStale = (input: StaleInput): StaleDecision => {
  const b = current(input.balance, input.now)
  const published = whole(input.published)
  const actual = whole(input.actual)
  if (input.expected === undefined) {
    // A write without a compare value cannot be stale; if a channel says so anyway, never go above it.
    const quantity = Math.min(Math.max(0, published - b.held), actual)
    return { quantity, expected: actual, unseen: 0, write: quantity !== actual, balance: b }
  }
  const drop = Math.max(0, whole(input.expected) - actual)
  const settled = Math.min(drop, b.credit)
  const unseen = drop - settled
  const credit = b.credit - settled
  const balance: ChannelBalance = {
    held: b.held + unseen,
    heldUntil: unseen > 0 ? input.now + input.windowMs : b.heldUntil,
    credit,
    creditUntil: credit > 0 ? b.creditUntil : 0
  }
  const quantity = Math.max(0, published - balance.held)
  return { quantity, expected: actual, unseen, write: quantity !== actual, balance }
}

/**
 * The single-write form of {@link afterStale} (no balance kept): units the channel gave away since
 * `lastPushed` are taken off `published`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const decideAfterStale = (input: {
  readonly published: number
  readonly lastPushed?: number | undefined
  readonly actual: number
}): { readonly quantity: number; readonly expected: number; readonly unseen: number; readonly write: boolean } => {
  const { quantity, expected, unseen, write } = afterStale({
    published: input.published,
    expected: input.lastPushed,
    actual: input.actual,
    balance: emptyBalance,
    now: 0,
    windowMs: Number.POSITIVE_INFINITY
  })
  return { quantity, expected, unseen, write }
}
