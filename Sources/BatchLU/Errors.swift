/// Every error BatchLU throws. Invalid arguments are detected before any
/// work starts and leave all inputs untouched; a singular matrix is *not* an
/// error (it is reported in `info`) except through ``luFactor(_:backend:)``,
/// which mirrors `torch.linalg.lu_factor` and throws ``singularMatrix(batchIndex:column:)``.
public enum BatchLUError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An operation that needs matrices got a tensor of rank < 2.
    case rankTooLow(operation: String, shape: [Int])
    /// A dimension is negative.
    case negativeDimension(shape: [Int])
    /// The product of the dimensions does not fit in `Int` (or in memory addressing).
    case elementCountOverflow(shape: [Int])
    /// A matrix dimension beyond the 32-bit range BLAS and LAPACK accept.
    case matrixTooLarge(rows: Int, cols: Int)
    /// The number of elements supplied does not match the shape.
    case elementCountMismatch(shape: [Int], expected: Int, got: Int)
    /// A reshape to a shape with a different number of elements.
    case reshapeMismatch(from: [Int], to: [Int])
    /// An element index is out of bounds or has the wrong rank.
    case indexOutOfRange(index: [Int], shape: [Int])
    /// `pivots` does not have the shape `[..., min(m, n)]` matching the factors.
    case pivotsShapeMismatch(expected: [Int], got: [Int])
    /// `info` does not have the shape `[...]` matching the factors.
    case infoShapeMismatch(expected: [Int], got: [Int])
    /// A pivot outside `1...m` (1-based, LAPACK convention).
    case pivotOutOfRange(batchIndex: Int, position: Int, value: Int32, rows: Int)
    /// Unpivoted factors (`pivot: false`) whose pivots are not the identity.
    case pivotsNotIdentity(batchIndex: Int, position: Int, value: Int32)
    /// The operation needs square matrices.
    case notSquare(operation: String, rows: Int, cols: Int)
    /// The right-hand side's row count is not `n`.
    case rightHandSideRows(expected: Int, got: Int)
    /// Batch dimensions that do not broadcast.
    case batchShapesDoNotBroadcast([Int], [Int])
    /// A gradient whose shape differs from the value it is the gradient of.
    case gradientShapeMismatch(expected: [Int], got: [Int])
    /// Arguments with different element types (dynamic API, `.npy` loading).
    case elementTypeMismatch(expected: String, got: String)
    /// `luFactor` (not `luFactorEx`) found an exactly singular matrix:
    /// `U[column, column] == 0` in the matrix at flat `batchIndex`.
    case singularMatrix(batchIndex: Int, column: Int)
    /// A backend the caller named cannot run this call.
    case backendUnavailable(backend: String, reason: String)
    /// The `BATCHLU_BACKEND` environment variable has a value BatchLU does not know.
    case invalidBackendName(String)
    /// A `.npy` file or buffer BatchLU cannot read.
    case npy(NPYError)

    public var description: String {
        switch self {
        case let .rankTooLow(op, shape):
            return "\(op): expected a tensor of shape [..., m, n] (rank >= 2), got shape \(shape)"
        case let .negativeDimension(shape): return "negative dimension in shape \(shape)"
        case let .elementCountOverflow(shape): return "the element count of shape \(shape) overflows Int"
        case let .matrixTooLarge(r, c): return "matrix of \(r) x \(c) exceeds BLAS/LAPACK's 32-bit dimensions"
        case let .elementCountMismatch(shape, expected, got):
            return "shape \(shape) needs \(expected) elements, got \(got)"
        case let .reshapeMismatch(from, to): return "cannot reshape \(from) to \(to): element counts differ"
        case let .indexOutOfRange(index, shape): return "index \(index) out of range for shape \(shape)"
        case let .pivotsShapeMismatch(expected, got): return "pivots must have shape \(expected), got \(got)"
        case let .infoShapeMismatch(expected, got): return "info must have shape \(expected), got \(got)"
        case let .pivotOutOfRange(b, pos, v, rows):
            return "pivot \(v) at position \(pos) of matrix \(b) is outside 1...\(rows)"
        case let .pivotsNotIdentity(b, pos, v):
            return "unpivoted factors have pivot \(v) at position \(pos) of matrix \(b); expected \(pos + 1)"
        case let .notSquare(op, r, c): return "\(op) needs square matrices, got \(r) x \(c)"
        case let .rightHandSideRows(e, g): return "right-hand side must have \(e) rows, got \(g)"
        case let .batchShapesDoNotBroadcast(a, b): return "batch shapes \(a) and \(b) do not broadcast"
        case let .gradientShapeMismatch(e, g): return "gradient must have shape \(e), got \(g)"
        case let .elementTypeMismatch(e, g): return "element type mismatch: expected \(e), got \(g)"
        case let .singularMatrix(b, c):
            return "matrix \(b) of the batch is singular: U[\(c), \(c)] is exactly zero (info = \(c + 1))"
        case let .backendUnavailable(name, reason): return "backend '\(name)' cannot run this call: \(reason)"
        case let .invalidBackendName(s):
            return "unknown backend '\(s)': expected 'cpu', 'opencl' or 'opencl:<device name substring>'"
        case let .npy(e): return "npy: \(e)"
        }
    }
}

/// Why a `.npy` buffer was rejected.
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The buffer does not start with `\x93NUMPY`.
    case badMagic
    /// A format version other than 1.0, 2.0 or 3.0.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The buffer ends before the preamble, the header or the data it
    /// declares: `expectedBytes` is the total size the file needs.
    case truncated(expectedBytes: Int, gotBytes: Int)
    /// The header is not the Python dict literal the format prescribes
    /// (syntax, missing/unknown/duplicate keys, wrong value kinds), or the
    /// data is followed by trailing bytes (`"trailing bytes"`).
    case badHeader(String)
    /// A dtype BatchLU does not read (anything but `<f4 <f8 <c8 <c16 <i4`).
    case unsupportedDType(String)
    /// A big-endian version of a supported dtype (`>f8`, ...).
    case bigEndian(String)
    /// `'fortran_order': True`.
    case fortranOrder
    /// A version 1.0 or 2.0 header with bytes outside ASCII.
    case nonASCIIHeader
    /// An object array (`'|O'`): pickled Python objects, never loaded.
    case objectDType
    /// A shape entry that is negative or not an integer.
    case invalidShape(String)
    /// A shape whose element count or byte size does not fit in `Int`
    /// (the payload is the shape as written in the header).
    case shapeTooLarge(String)
    /// Reading or writing the file failed.
    case io(String)

    public var description: String {
        switch self {
        case .badMagic: return "not a .npy file (bad magic string)"
        case let .unsupportedVersion(a, b): return "unsupported .npy format version \(a).\(b)"
        case let .truncated(e, g): return "truncated: expected \(e) bytes, got \(g)"
        case let .badHeader(why): return "bad header: \(why)"
        case let .unsupportedDType(d):
            return "unsupported dtype '\(d)': BatchLU reads little-endian <f4, <f8, <c8, <c16 and <i4"
        case let .bigEndian(d): return "big-endian dtype '\(d)' is not supported; save with '<' byte order"
        case .fortranOrder: return "Fortran-ordered arrays are not supported; save a C-contiguous array"
        case .nonASCIIHeader: return "the header of a version 1.0/2.0 file must be ASCII"
        case .objectDType: return "object arrays (pickled Python objects) cannot be loaded"
        case let .invalidShape(why): return "invalid shape: \(why)"
        case let .shapeTooLarge(shape): return "shape \(shape) is too large: its byte size does not fit in Int"
        case let .io(why): return "I/O error: \(why)"
        }
    }
}
