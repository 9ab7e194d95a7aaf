package io.safetune.eval;

/**
 * The 95% Wilson score interval of a binomial rate k/n: the interval the lab draws around a rate
 * measured on one seed's n prompts. Unlike the normal approximation it stays inside [0, 1] and is not
 * empty at k = 0 (a harmful score of 0 over 200 prompts still allows up to 1.9%).
 *
 * @param low  lower bound
 * @param high upper bound
 */
public record Wilson(double low, double high) {

    /** z of a two-sided 95% interval. */
    static final double Z95 = 1.959963984540054;

    /** The interval of {@code k} successes in {@code n} trials. */
    public static Wilson of(long k, long n) {
        if (n < 1 || k < 0 || k > n) {
            throw new IllegalArgumentException("k, n: need 0 <= k <= n and n >= 1, got k=" + k + ", n=" + n);
        }
        double p = (double) k / n;
        double z2 = Z95 * Z95;
        double centre = (p + z2 / (2.0 * n)) / (1 + z2 / n);
        double half = Z95 / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Wilson(Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /** The interval of a rate measured over {@code n} trials (k = round(rate · n)). */
    public static Wilson ofRate(double rate, long n) {
        return of(Math.round(rate * n), n);
    }

    /**
     * The larger distance from {@code rate} to either bound: XChart draws only symmetric error bars, so
     * this half-width covers the whole interval (it overstates the short side).
     */
    public double halfWidthAround(double rate) {
        return Math.max(rate - low, high - rate);
    }
}
