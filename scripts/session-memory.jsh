// A long notebook session must not grow: 12 rounds of what a notebook does over and over (attach an
// adapter, evaluate 200 harmful + 5 x 200 task prompts, generate, detach), printing resident memory.
// Run with scripts/session-memory.sh after ./safetune reproduce (it uses runs/default/stages).
import io.safetune.lab.*; import java.nio.file.*;
long rss() { try { for (String l : Files.readAllLines(Path.of("/proc/self/status"))) if (l.startsWith("VmRSS")) return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024; } catch (Exception e) {} return -1; }
var lab = MicroWorldLab.open();
var model = LabModel.load(lab.aligned(), "plain");
for (int i = 0; i < 12; i++) { model.attach(lab.attacked(0.1)); var s = lab.evaluate(model); model.generate(lab.heldOutHarmful(8)); model.detach(); System.gc(); System.out.println("round " + i + ": RSS " + rss() + " MB, harmful score " + s.harmfulScore()); }
/exit
