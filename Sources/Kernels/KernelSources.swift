/// The OpenCL C sources of `kernels/`, embedded at build time (see
/// `scripts/embed-kernels.py`); nothing is looked up on disk at run time.
public enum KernelSources {
    /// File name → source text.
    public static var all: [String: String] { EmbeddedSources.files }

    /// The source of one kernel file, e.g. `"common.cl"`.
    public static func source(_ name: String) -> String? { EmbeddedSources.files[name] }

    /// The `-D` options that specialise a kernel for an element type:
    /// `PRECISION` is 32, 64, 3232 or 6464 (CLBlast's convention).
    public static func precisionDefine(bits: Int, complex: Bool) -> String {
        "-DPRECISION=\(complex ? bits * 101 : bits)"
    }
}
