/**
 * FourPxLabelWait: how `label` waits for 4PX to render a label. 4PX renders a label some seconds
 * after the create (published clients sleep 1.5–5 s and ask again), and a caller wants the label,
 * not "try later" — so `label` asks again itself: every `labelWait.every` until `labelWait.timeout`
 * has passed since it started.
 *
 * Only answers that waiting can cure are asked about again: a label not rendered yet and a busy or
 * failing gateway (`Transient`), and rate limiting (`RateLimited`, after the longer of `every` and
 * the gateway's own wait). An unknown or cancelled parcel, a refused request or a lost
 * authorization answers at once. The last look happens at the deadline itself, so a label rendered
 * just in time is not missed; past it `label` fails `Transient` saying how long it waited (or
 * `RateLimited`, keeping the gateway's wait, when that is what it last heard).
 *
 * The waits are Effect `Schedule` delays on the fiber's `Clock`, so `TestClock` drives them.
 *
 * @since 0.1.0
 */
import { ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Duration, Effect, Schedule } from "effect"
import type { LabelWait } from "./FourPxConfig.ts"

/** Whether waiting can cure a failed label fetch. */
export const retriable = (error: Errors.ConnectorError): boolean =>
  error._tag === "Transient" || error._tag === "RateLimited"

/** The pause before the next look after `error`: `every`, or the gateway's own longer wait. */
export const delayAfter = (error: Errors.ConnectorError, every: Duration.Duration): Duration.Duration =>
  error._tag === "RateLimited" ? Duration.max(every, error.retryAfter) : every

/**
 * The retry schedule of one wait that ends at `deadline` (epoch ms on the fiber's clock): a pause
 * after each failure, cut short so the last look lands on the deadline, and no look after it.
 */
export const schedule = (
  wait: LabelWait,
  deadline: number
): Schedule.Schedule<Errors.ConnectorError, Errors.ConnectorError> =>
  Schedule.identity<Errors.ConnectorError>().pipe(
    Schedule.whileOutputEffect(() => Effect.map(Clock.currentTimeMillis, (now) => now < deadline)),
    Schedule.addDelayEffect((error) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        Duration.min(delayAfter(error, wait.every), Duration.millis(Math.max(0, deadline - now)))
      )
    )
  )

/**
 * Runs `attempt` until it succeeds, fails with something waiting cannot cure, or `wait.timeout`
 * passes. `subject` names what was awaited in the final error ("label for TT-1").
 */
export const waitFor = <A>(
  attempt: Effect.Effect<A, Errors.ConnectorError>,
  wait: LabelWait,
  subject: string
): Effect.Effect<A, Errors.ConnectorError> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const deadline = start + Duration.toMillis(wait.timeout)
    let looks = 0
    const counted = Effect.suspend(() => {
      looks += 1
      return attempt
    })
    return yield* counted.pipe(
      Effect.retry({ schedule: schedule(wait, deadline), while: retriable }),
      Effect.catchIf(retriable, (last) => {
        const waited = Duration.isZero(wait.timeout)
          ? "without waiting (labelWait.timeout is 0)"
          : `after waiting ${Duration.format(wait.timeout)} (${looks} ${looks === 1 ? "look" : "looks"}, every ${Duration.format(wait.every)})`
        const common = {
          connection: last.connection,
          code: last.code,
          httpStatus: last.httpStatus,
          exchange: last.exchange
        }
        return Effect.fail(
          last._tag === "RateLimited"
            ? new Errors.RateLimited({
                ...common,
                retryAfter: last.retryAfter,
                message: `4PX was still rate limiting the request for ${subject} ${waited}; last answer: ${last.message}`
              })
            : new Errors.Transient({
                ...common,
                message: `4PX gave no ${subject} ${waited}; last answer: ${last.message}`
              })
        )
      })
    )
  })
