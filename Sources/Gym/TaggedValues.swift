/// The text inside every closed `<tag>…</tag>` pair of a model's output, in order (an opening tag without its
/// closing one ends the search). Judges' and guides' verdicts are read this way.
func taggedValues(_ tag: String, in output: String) -> [Substring] {
    var found: [Substring] = []
    var rest = output[...]
    while let open = rest.range(of: "<\(tag)>") {
        guard let close = rest[open.upperBound...].range(of: "</\(tag)>") else { break }
        found.append(rest[open.upperBound..<close.lowerBound])
        rest = rest[close.upperBound...]
    }
    return found
}
