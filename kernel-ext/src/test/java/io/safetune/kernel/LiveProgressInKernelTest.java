package io.safetune.kernel;

import io.safetune.train.LiveProgress;
import io.safetune.display.LiveViewProvider;
import io.safetune.display.LiveViews;
import io.safetune.kernel.ijava.IJavaLiveViewProvider;
import io.safetune.kernel.rapaio.RapaioLiveViewProvider;
import io.safetune.train.ProgressBar;
import io.safetune.train.StepEvent;
import io.safetune.train.TrainListener;
import io.safetune.train.TrainResult;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab's LiveProgress over kernel-ext's services. */
class LiveProgressInKernelTest {

    @Test
    void bothProvidersAreServicesAndStayEmptyOutsideAKernel() {
        List<String> types = ServiceLoader.load(LiveViewProvider.class).stream().map(p -> p.type().getName()).toList();
        assertTrue(types.contains(RapaioLiveViewProvider.class.getName()), types.toString());
        assertTrue(types.contains(IJavaLiveViewProvider.class.getName()), types.toString());
        assertTrue(LiveViews.inKernel().isEmpty());
        assertInstanceOf(ProgressBar.class, LiveProgress.auto());
    }

    @Test
    void aTrainingRunIsOneDisplayUpdatedInPlace() {
        List<String> shown = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        // a real View of the rapaio adapter, publishing into lists instead of the kernel's IOPub
        var view = new io.safetune.kernel.rapaio.RapaioLiveViewProviderAccess().view(
                d -> shown.add(d.getDisplayId() + " " + d.data().get("text/html")),
                d -> updated.add(d.getDisplayId() + " " + d.data().get("text/html")));
        TrainListener p = new LiveProgress(view, 0);
        int steps = 20;
        p.onStart(new TrainListener.StartEvent(0, steps, 10, 100, null));
        for (int s = 1; s <= steps; s++) {
            p.onStep(new StepEvent(s, steps, s / 10.0, 2.0 / s, 1e-3, 0.5, 1000, Duration.ofSeconds(s),
                    Duration.ofSeconds(steps - s), Map.of()));
        }
        p.onEnd(new TrainListener.EndEvent(new TrainResult(List.of(0.1), List.of(1e-3), List.of(0.5), 0, steps, steps,
                false, 2.0, 1000, List.of())));

        assertEquals(1, shown.size());
        assertEquals(steps + 1, updated.size());
        String id = shown.get(0).split(" ", 2)[0];
        updated.forEach(u -> assertEquals(id, u.split(" ", 2)[0]));
        assertTrue(updated.get(steps - 1).contains("100%"), updated.get(steps - 1));
        assertTrue(updated.get(steps).contains("TrainResult"), updated.get(steps));
    }
}
