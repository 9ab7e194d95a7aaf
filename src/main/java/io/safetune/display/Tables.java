package io.safetune.display;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * How numbers look in a shown table. Results keep full precision in their {@code table()} (for
 * analysis), while every display of a table (HTML in reports and notebooks, the text form) rounds
 * rates, drifts and cosines to three significant digits: the 16 digits of a double are noise to a reader.
 */
public final class Tables {

    /** Significant digits of a shown fraction or drift. */
    public static final int DIGITS = 3;

    private Tables() {
    }

    /**
     * {@code v} to {@link #DIGITS} significant digits; values of 1000 or more to whole numbers (a step
     * count or tokens per second is read whole); NaN and infinities unchanged.
     */
    public static double round(double v) {
        if (!Double.isFinite(v) || v == 0) {
            return v;
        }
        if (Math.abs(v) >= 1000) {
            return Math.rint(v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(DIGITS)).doubleValue();
    }

    /** A copy of {@code t} whose double columns are {@link #round rounded} (missing values stay missing). */
    public static Table rounded(Table t) {
        Table copy = t.copy();
        for (Column<?> c : copy.columns()) {
            if (c instanceof DoubleColumn d) {
                for (int i = 0; i < d.size(); i++) {
                    if (!d.isMissing(i)) {
                        d.set(i, round(d.getDouble(i)));
                    }
                }
            }
        }
        return copy;
    }
}
