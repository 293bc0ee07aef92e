/**
 * Whole numbers written in text by a client (a path segment, a query
 * parameter, a header). `Number()` and `z.coerce.number()` read far more
 * than digits — `1e0`, `0x1`, ` 1`, `1.0`, `+1` and the empty string
 * (0) all pass as numbers — which lets a client smuggle a number past
 * anything that reads the text another way (a log, a cache key, a proxy).
 * Here only plain decimal digits pass.
 */
import { z } from "zod";

/** 15 digits stay below 2^53, so every accepted value is an exact integer. */
const DIGITS = /^[0-9]{1,15}$/;

/** A plain decimal integer from `min` to `max`, read from text. */
export const decimalInt = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(DIGITS, "must be a whole number written in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
