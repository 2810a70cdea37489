import CBLAS
import Foundation

/// Which OpenBLAS kernel runs, which one this CPU deserves, and whether the running one computes correctly.
///
/// Debian 12's OpenBLAS 0.3.21 picks its kernel once, when the library is loaded, from the CPU model — and
/// falls back to the SSE3 `Prescott` kernel on CPUs newer than it knows (Intel family 6 model 207 runs at a
/// fifth of its speed there). `OPENBLAS_CORETYPE`, read at load time, overrides the choice; `azr` sets it and
/// re-executes itself (see the CLI's `KernelSelection`) when the library's choice is weaker than the best
/// kernel this CPU's flags allow.
public enum BLASKernel {
    /// OpenBLAS's x86-64 kernels that a DYNAMIC_ARCH build of 0.3.21 carries, weakest first, with the CPU flags
    /// each needs. Zen runs Haswell's kernels, so it shares Haswell's rank.
    public static let ladder: [(name: String, flags: [String])] = [
        ("Prescott", ["sse3"]),
        ("Nehalem", ["sse4_2"]),
        ("Sandybridge", ["avx"]),
        ("Haswell", ["avx2", "fma"]),
        ("SkylakeX", ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]),
        ("Cooperlake", ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"]),
    ]

    /// The kernel the loaded library runs.
    public static var current: String { String(cString: openblas_get_corename()) }

    /// The library's build description (version and options).
    public static var configuration: String { String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces) }

    /// The strongest kernel of `ladder` whose flags this CPU has, or nil on a CPU without SSE3.
    public static func best(flags: Set<String>) -> String? {
        ladder.last { $0.flags.allSatisfy(flags.contains) }?.name
    }

    /// A kernel's place on the ladder (Zen counts as Haswell); nil for a name the ladder does not know.
    public static func rank(_ name: String) -> Int? {
        let name = name.lowercased() == "zen" ? "haswell" : name.lowercased()
        return ladder.firstIndex { $0.name.lowercased() == name }
    }

    /// The CPU's feature flags, from /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Checks the running kernel on the shapes the trainer uses (plain, transposed and skinny sgemm, sgemv)
    /// against a double-precision reference; returns the first wrong result found, or nil when all agree.
    public static func verify() -> String? {
        var state: UInt64 = 0x5EED
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(state >> 40) % 2001 - 1000) / 1000
            }
        }
        // (rows, columns, depth, transpose A, transpose B)
        let shapes = [(67, 93, 150, false, false), (32, 200, 96, false, true), (130, 17, 64, true, false), (1, 300, 257, false, true)]
        for (m, n, k, ta, tb) in shapes {
            let a = values(m * k), b = values(k * n)
            var c = [Float](repeating: 0, count: m * n)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                        a, Int32(ta ? m : k), b, Int32(tb ? k : n), 0, &c, Int32(n))
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, magnitude = 0.0
                    for l in 0..<k {
                        let term = Double(ta ? a[l * m + i] : a[i * k + l]) * Double(tb ? b[j * k + l] : b[l * n + j])
                        sum += term
                        magnitude += abs(term)
                    }
                    if abs(Double(c[i * n + j]) - sum) > 1e-5 * magnitude + 1e-6 {
                        return "sgemm \(m)×\(n)×\(k) gave \(c[i * n + j]) at (\(i), \(j)) where \(sum) is right"
                    }
                }
            }
        }
        let (rows, columns) = (193, 211)
        let matrix = values(rows * columns), vector = values(columns)
        var product = [Float](repeating: 0, count: rows)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, matrix, Int32(columns), vector, 1, 0, &product, 1)
        for i in 0..<rows {
            let sum = (0..<columns).reduce(0.0) { $0 + Double(matrix[i * columns + $1]) * Double(vector[$1]) }
            if abs(Double(product[i]) - sum) > 1e-4 { return "sgemv \(rows)×\(columns) gave \(product[i]) at \(i) where \(sum) is right" }
        }
        return nil
    }

    /// One line for progress output and reports: the kernel and how it came to be chosen.
    public static var summary: String {
        let note = ProcessInfo.processInfo.environment[selectionNoteVariable].map { " (\($0))" } ?? ""
        return "OpenBLAS \(current) kernel\(note)"
    }

    /// Set by the CLI when it chose the kernel: how it chose, for `summary`.
    public static let selectionNoteVariable = "AZR_BLAS_SELECTION"
}
