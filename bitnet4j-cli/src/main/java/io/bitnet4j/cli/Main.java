package io.bitnet4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code bitnet4j} command. */
@Command(name = "bitnet4j", mixinStandardHelpOptions = true, version = "bitnet4j 0.1.0-SNAPSHOT",
        description = "Lossless inference of 1.58-bit (ternary) LLMs in pure Java.",
        subcommands = {
                RunCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                TokenizeCommand.class,
                BenchCommand.class,
                SynthCommand.class,
                ConvertCommand.class,
                InfoCommand.class,
                PerplexityCommand.class,
                VerifyCommand.class,
        })
public final class Main {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: user errors print one clear line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println("error: " + CliErrors.describe(ex));
            if (System.getenv("BITNET4J_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl;
    }
}
