package io.safetune.train;


import io.safetune.display.HtmlReport;
import io.safetune.display.LiveView;
import io.safetune.display.LiveViews;

import java.util.Locale;

/**
 * Training progress as one display redrawn in place: an HTML bar with step, loss, learning rate and
 * ETA in a notebook, at most {@code 1000 / minMillis} redraws a second so the kernel is not flooded.
 * {@link #auto()} picks the kernel's live view, or the terminal {@link ProgressBar} outside a kernel.
 */
public final class LiveProgress implements TrainListener {

    private final LiveView view;
    private final long minNanos;
    private long lastDraw;
    private String title = "training";

    public LiveProgress(LiveView view, long minMillis) {
        if (view == null) {
            throw new IllegalArgumentException("view: must not be null");
        }
        this.view = view;
        this.minNanos = minMillis * 1_000_000L;
    }

    /** In a Jupyter kernel with kernel-ext: one in-place bar; elsewhere: {@link ProgressBar#auto()}. */
    public static TrainListener auto() {
        return LiveViews.inKernel().<TrainListener>map(v -> new LiveProgress(v, 250)).orElseGet(ProgressBar::auto);
    }

    @Override
    public void onStart(StartEvent e) {
        title = String.format(Locale.ROOT, "training: %d examples, %d steps", e.examples(), e.totalSteps());
        view.update(html(0, "starting…"), title);
    }

    @Override
    public void onStep(StepEvent e) {
        long now = System.nanoTime();
        if (e.step() != e.totalSteps() && now - lastDraw < minNanos) {
            return;
        }
        lastDraw = now;
        double fraction = e.totalSteps() == 0 ? 1 : (double) e.step() / e.totalSteps();
        String line = ProgressBar.format(e);
        view.update(html(fraction, line.substring(line.indexOf(']') + 1).trim()), line);
    }

    @Override
    public void onEnd(EndEvent e) {
        view.update(html(1, e.result().toString()), e.result().toString());
        view.close();
    }

    private String html(double fraction, String detail) {
        int pct = (int) Math.floor(fraction * 100);
        return bar(title, pct, 100, pct + "%<br/>", detail);
    }

    /**
     * The HTML of one progress line: {@code label}, a bar at {@code value}/{@code max}, then
     * {@code markup} (trusted HTML) and {@code detail} (escaped). Shared by training and evaluation views.
     */
    public static String bar(String label, int value, int max, String markup, String detail) {
        return "<div style=\"font-family:monospace\">" + HtmlReport.escape(label) + " <progress value=\"" + value
                + "\" max=\"" + max + "\" style=\"width:240px\"></progress> " + markup + HtmlReport.escape(detail) + "</div>";
    }
}
