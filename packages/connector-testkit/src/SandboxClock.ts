/**
 * SandboxClock: the time a sandbox lives in. It follows real time, but tests can jump it forward
 * (`advance`), pin it (`set`) or speed it up (`speed`) — so a 7-day token expiry, a 2-hour suspension
 * or a label that takes a minute to render happen at once, without waiting.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"

interface Waiter {
  readonly at: number
  readonly resolve: () => void
  timer: ReturnType<typeof setTimeout> | undefined
}

/** A controllable clock for sandboxes. Milliseconds since the epoch, like `Date.now()`. */
export class SandboxClock {
  private anchorReal: number
  private anchorSim: number
  private factor: number
  private readonly waiters = new Set<Waiter>()

  constructor(options: { readonly start?: number; readonly speed?: number } = {}) {
    this.anchorReal = Date.now()
    this.anchorSim = options.start ?? this.anchorReal
    this.factor = options.speed ?? 1
  }

  /** Sandbox time in milliseconds. */
  now(): number {
    return this.anchorSim + (Date.now() - this.anchorReal) * this.factor
  }

  /** Sandbox time in whole seconds (what most platforms put in timestamps). */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000)
  }

  /** Moves time forward by `ms`, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.rebase(this.now() + ms)
  }

  /** Sets sandbox time. */
  set(ms: number): void {
    this.rebase(ms)
  }

  /** Time runs `factor` times faster than real time from now on (1 = real time). */
  speed(factor: number): void {
    if (!(factor > 0)) throw new Error("clock speed must be positive")
    const now = this.now()
    this.factor = factor
    this.rebase(now)
  }

  /** Resolves after `ms` of sandbox time (early when the clock is advanced past it). */
  sleep(ms: number): Promise<void> {
    return this.until(this.now() + ms)
  }

  /** Resolves once sandbox time reaches `at`. */
  until(at: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { at, resolve, timer: undefined }
      this.waiters.add(waiter)
      this.schedule(waiter)
    })
  }

  /** Cancels every pending sleep (they never resolve); used when a sandbox shuts down. */
  dispose(): void {
    for (const w of this.waiters) if (w.timer !== undefined) clearTimeout(w.timer)
    this.waiters.clear()
  }

  private rebase(sim: number) {
    this.anchorReal = Date.now()
    this.anchorSim = sim
    for (const w of this.waiters) this.schedule(w)
  }

  private schedule(w: Waiter) {
    if (w.timer !== undefined) clearTimeout(w.timer)
    const remaining = (w.at - this.now()) / this.factor
    if (remaining <= 0) {
      this.waiters.delete(w)
      w.timer = undefined
      w.resolve()
      return
    }
    // Re-check on wake-up: the clock may have been slowed or set back meanwhile.
    w.timer = setTimeout(() => this.schedule(w), Math.min(Math.ceil(remaining), 2_147_483_647))
    w.timer.unref?.()
  }
}

/**
 * An Effect `Clock` that reads sandbox time, so a connector's request timestamps and token expiries
 * follow a sandbox clock a test moved (sleeps stay in real time, so HTTP timeouts are not sped up).
 */
export const effectClock = (clock: SandboxClock): Clock.Clock => {
  const real = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => Math.floor(clock.now()),
    unsafeCurrentTimeNanos: () => BigInt(Math.floor(clock.now())) * 1_000_000n,
    currentTimeMillis: Effect.sync(() => Math.floor(clock.now())),
    currentTimeNanos: Effect.sync(() => BigInt(Math.floor(clock.now())) * 1_000_000n),
    sleep: (duration) => real.sleep(duration)
  }
}
