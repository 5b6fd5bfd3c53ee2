// The Rust side of the comparison: reads int16 input vectors (N_IN each,
// whitespace-separated) from stdin and prints the exported crate's outputs,
// one line per vector, as tests/pkg/harness.c prints the C kernel's. Exits
// with the crate's selftest() (0: every self-test vector matches).
extern crate net;

use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).unwrap();
    let v: Vec<i16> = text.split_whitespace().map(|t| t.parse().unwrap()).collect();
    let mut input = [0i16; net::N_IN];
    let mut out = [0i16; net::N_OUT];
    for row in v.chunks(net::N_IN) {
        input.copy_from_slice(row);
        net::infer(&input, &mut out);
        let line: Vec<String> = out.iter().map(|y| y.to_string()).collect();
        println!("{}", line.join(" "));
    }
    std::process::exit(net::selftest() as i32);
}
