/**
 * Postal address and buyer contact. These are personal data: tkbridge keeps only what fulfilment needs
 * and masks them in logs and the audit trail (see `Pii`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** A delivery address as the fulfilling system needs it. */
export class Address extends Schema.Class<Address>("@tkbridge/core/Address")({
  name: Schema.String,
  phone: Schema.optional(Schema.String),
  email: Schema.optional(Schema.String),
  company: Schema.optional(Schema.String),
  line1: Schema.String,
  line2: Schema.optional(Schema.String),
  city: Schema.String,
  /** State, province or region; several carriers require it. */
  state: Schema.optional(Schema.String),
  postalCode: Schema.optional(Schema.String),
  /** ISO 3166-1 alpha-2 country code. */
  country: Schema.String.pipe(
    Schema.pattern(/^[A-Z]{2}$/, { message: () => "must be an ISO 3166-1 alpha-2 code like GB" })
  )
}) {}
