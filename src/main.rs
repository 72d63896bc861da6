// The worker allocates and frees many short-lived buffers per message (XML, SQL arguments, AMQP
// frames); mimalloc spends far less time on them than the system allocator (benches/throughput).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = iwmo::cli::Cli::parse_args();
    std::process::exit(iwmo::cli::run(cli));
}
