/// Flop counts (LAPACK Working Note 41), used for every GFLOP/s figure.
public enum FlopCount {
    /// `getrf` on one `m × n` matrix: `FMULS + FADDS` (real) or
    /// `6·FMULS + 2·FADDS` (complex).
    public static func getrf(m: Int, n: Int, complex: Bool) -> Double {
        var (mm, nn) = (Double(m), Double(n))
        if m < n { swap(&mm, &nn) }
        // m >= n from here on.
        let fmuls = mm * nn * nn / 2 - nn * nn * nn / 6 + mm * nn / 2 - nn * nn / 2 + 2 * nn / 3
        let fadds = mm * nn * nn / 2 - nn * nn * nn / 6 - mm * nn / 2 + nn / 6
        if m == 0 || n == 0 { return 0 }
        return complex ? 6 * fmuls + 2 * fadds : fmuls + fadds
    }
}
