/**
 * How the lab writes numbers in messages and labels, one style everywhere (engine reasons, form hints, CLI):
 * plain decimals with thousands separators, never exponent notation.
 */

/** Plain decimals with thousands separators (0.000001, 10, 2,147,483,647), never exponent notation. */
export const formatBound = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 20 });

/** A count with thousands separators: 50,000. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');
