// Package dp adds differential-privacy noise to integer counts: the discrete
// Laplace (two-sided geometric) and the discrete Gaussian distributions,
// sampled exactly with the rejection samplers of Canonne, Kamath and Steinke
// ("The Discrete Gaussian for Differential Privacy", NeurIPS 2020,
// Algorithms 1–3).
//
// Every step works on integers and rationals (math/big): no floating-point
// number is ever sampled or added to a count, so the attack of Mironov ("On
// significance of the least significant bits for differential privacy",
// CCS 2012) on textbook floating-point Laplace noise does not apply. Random
// bits come from an io.Reader, crypto/rand.Reader in production; tests pass
// a seeded generator to make the distribution tests reproducible.
package dp
