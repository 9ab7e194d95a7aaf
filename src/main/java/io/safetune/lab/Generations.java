package io.safetune.lab;

import io.safetune.display.Displayable;

import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.List;

/** What a model answered: one row per prompt, shown as a table in a notebook. */
public record Generations(List<Row> rows) implements Displayable {

    /** One prompt, its answer (EOS dropped), why decoding stopped and how many tokens it produced. */
    public record Row(String prompt, String answer, io.safetune.model.StopReason stopReason, int tokens) {
    }

    public Generations {
        rows = List.copyOf(rows);
    }

    /** The answers, in the prompts' order. */
    public List<String> answers() {
        return rows.stream().map(Row::answer).toList();
    }

    @Override
    public String title() {
        return "Generations (" + rows.size() + ")";
    }

    @Override
    public Table table() {
        Table t = Table.create(title(), StringColumn.create("prompt"), StringColumn.create("answer"),
                StringColumn.create("stop"), IntColumn.create("tokens"));
        for (Row r : rows) {
            t.stringColumn("prompt").append(r.prompt());
            t.stringColumn("answer").append(r.answer());
            t.stringColumn("stop").append(String.valueOf(r.stopReason()));
            t.intColumn("tokens").append(r.tokens());
        }
        return t;
    }
}
