package dev.jvmm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs jvmm's command line in-process and captures its status, stdout and stderr. */
record CliRunner(int status, String out, String err) {
    static CliRunner run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = JvmmCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new CliRunner(status, out.toString(), err.toString());
    }
}
