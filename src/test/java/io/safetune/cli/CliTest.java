package io.safetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

class CliTest {

    @Test
    void everySubCommandHasHelp() {
        List<CommandLine> all = new ArrayList<>();
        collect(new CommandLine(new Main()), all);
        assertTrue(all.size() >= 6, "sub-commands: " + all.size());
        for (CommandLine c : all) {
            if (c.getCommandName().equals("help")) {
                continue;
            }
            String usage = c.getUsageMessage();
            assertTrue(usage.contains("--help"), c.getCommandName() + " has no --help");
            assertTrue(c.getCommandSpec().usageMessage().description().length > 0, c.getCommandName() + " has no description");
        }
    }

    private static void collect(CommandLine c, List<CommandLine> out) {
        out.add(c);
        c.getSubcommands().values().forEach(s -> collect(s, out));
    }

    @Test
    void parityPassesOnTheFixtureAndFailsOnAMismatch() {
        String model = Fixtures.get("llama-tiny").toString();
        assertEquals(0, Main.run("parity", "--model", model, "--expected", Fixtures.get("llama-tiny/expected.json").toString()));
        String out = capture(() -> Main.run("parity", "--model", model,
                "--expected", Fixtures.get("llama-tiny-bf16/expected.json").toString(), "--tol", "1e-6"));
        assertTrue(out.contains("FAIL"), out);
        assertEquals(1, Main.run("parity", "--model", model,
                "--expected", Fixtures.get("llama-tiny-bf16/expected.json").toString(), "--tol", "1e-6"));
        // bad input: one clear line, exit 2
        assertEquals(2, Main.run("parity", "--model", Fixtures.get("qwen2-tiny").toString(),
                "--expected", Fixtures.get("llama-tiny/expected.json").toString()));
    }

    @Test
    void safeLoraWritesAProjectedPeftAdapter(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path out = tmp.resolve("safe");
        String printed = capture(() -> assertEquals(0, Main.run("safelora", "--base", Fixtures.get("llama-tiny").toString(),
                "--aligned", Fixtures.get("llama-tiny-aligned").toString(), "--adapter", Fixtures.get("llama-tiny-lora").toString(),
                "--num-proj-layers", "2", "--out", out.toString())));
        assertTrue(printed.contains("projected 2 of 6 weights"), printed);
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "safelora.json", "safelora.csv")) {
            assertTrue(java.nio.file.Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(2, Main.run("safelora", "--base", Fixtures.get("qwen2-tiny").toString(),
                "--aligned", Fixtures.get("llama-tiny-aligned").toString(), "--adapter", Fixtures.get("llama-tiny-lora").toString()));
    }

    @Test
    void safeLoraControlsAndEnergyFromTheCommandLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path out = tmp.resolve("safe");
        String printed = capture(() -> assertEquals(0, Main.run("safelora", "--base", Fixtures.get("llama-tiny").toString(),
                "--aligned", Fixtures.get("llama-tiny-aligned").toString(), "--adapter", Fixtures.get("llama-tiny-lora").toString(),
                "--num-proj-layers", "2", "--out", out.toString(), "--controls", "--random-rank", "4", "--energy-top-k", "2")));
        assertTrue(printed.contains("controls: random rank-4 projector on the same 2 weights"), printed);
        assertTrue(printed.contains("V's own share"), printed);
        for (String d : List.of("random-projection", "uniform-scale")) {
            assertTrue(java.nio.file.Files.isRegularFile(out.resolve("controls").resolve(d).resolve("adapter_model.safetensors")), d);
        }
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("energy.csv")));
        assertEquals(2, Main.run("safelora", "--base", Fixtures.get("llama-tiny").toString(),
                "--aligned", Fixtures.get("llama-tiny-aligned").toString(), "--adapter", Fixtures.get("llama-tiny-lora").toString(),
                "--controls"), "--controls without --out is an error");
    }

    private static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
