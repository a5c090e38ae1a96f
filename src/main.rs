//! The `jolt` binary: everything lives in the library so tests can drive it directly.

fn main() -> std::process::ExitCode {
    jolt::cli::main()
}
