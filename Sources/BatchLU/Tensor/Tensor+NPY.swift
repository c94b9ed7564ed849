import ComplexModule
import RealModule
import Foundation

// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0, 3.0).
//
// Layout: the magic string `\x93NUMPY`, a major and a minor version byte, the
// header length (UInt16 little-endian for 1.0, UInt32 for 2.0 and 3.0), the
// header, then the raw elements. The header is a Python dict literal,
//
//     {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and a final '\n' so that the data starts at a multiple
// of 64 bytes (ASCII in 1.0/2.0, UTF-8 in 3.0).
//
// What BatchLU reads: the little-endian dtypes `<f4 <f8 <c8 <c16 <i4` in C
// order, any shape (`()` is a scalar with one element, dimensions may be 0).
// Everything else is a typed ``NPYError`` and no input traps. The reader is
// stricter than NumPy in three ways, each documented where it is checked:
// the file must end exactly where the data ends (trailing bytes are
// rejected as `badHeader("trailing bytes")`), `fortran_order` must be
// `False` even for arrays where both orders coincide, and the dict must
// hold exactly the three keys once each. It is laxer in one way: the data
// need not start at a multiple of 64 (NumPy before 1.14 aligned to 16).
// Integers with the Python 2 `L` suffix (old files) are accepted, as NumPy
// does for 1.0/2.0 files.
//
// The order of the checks is fixed: magic, version, header length present,
// header present, header encoding, dict syntax, keys, dtype, fortran_order,
// shape entries, shape size, data size. Sizes are validated (with
// overflow-checked arithmetic) against the bytes actually present before
// anything of the declared size is allocated.
//
// The writer produces exactly what `numpy.save` writes for the same array
// (version 1.0 when the header fits in a UInt16 length, 2.0 otherwise,
// including NumPy's spare header space for growing the first axis).

// MARK: - Data types

/// The five element types BatchLU reads and writes, by their `.npy` descr.
enum NPYDType: String, CaseIterable, Sendable {
    case f4 = "<f4", f8 = "<f8", c8 = "<c8", c16 = "<c16", i4 = "<i4"

    /// Bytes per element.
    var itemSize: Int {
        switch self {
        case .f4, .i4: return 4
        case .f8, .c8: return 8
        case .c16: return 16
        }
    }

    /// Bytes per scalar component (the unit a byte swap reverses).
    var componentSize: Int {
        switch self {
        case .f4, .c8, .i4: return 4
        case .f8, .c16: return 8
        }
    }

    /// The dtype of a descr string, or the typed reason it is not read.
    static func classify(_ descr: String) throws -> NPYDType {
        if let t = NPYDType(rawValue: descr) { return t }
        let body = descr.drop(while: { $0 == "<" || $0 == ">" || $0 == "|" || $0 == "=" })
        if body.first == "O" { throw BatchLUError.npy(.objectDType) }
        if descr.first == ">", NPYDType(rawValue: "<" + descr.dropFirst()) != nil {
            throw BatchLUError.npy(.bigEndian(descr))
        }
        throw BatchLUError.npy(.unsupportedDType(descr))
    }
}

// MARK: - Python literals

/// The subset of Python literals an `.npy` header can hold (and a little
/// more, so that unsupported headers get precise errors).
indirect enum PyLiteral: Sendable {
    case string(String)
    /// An integer as written (`text`), and its value (`nil` if it does not fit in `Int`).
    case integer(text: String, negative: Bool, value: Int?)
    /// A numeric token that is not an integer (`2.5`, `1e3`, `3j`, `0x10`, ...).
    case otherNumber(String)
    case bool(Bool)
    case none
    case tuple([PyLiteral])
    case list([PyLiteral])
    case dict([(key: PyLiteral, value: PyLiteral)])

    /// A Python-like rendering, for error messages.
    var repr: String {
        switch self {
        case let .string(s): return "'\(s)'"
        case let .integer(text, _, _): return text
        case let .otherNumber(text): return text
        case let .bool(b): return b ? "True" : "False"
        case .none: return "None"
        case let .tuple(items):
            return "(" + items.map(\.repr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case let .list(items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case let .dict(entries): return "{" + entries.map { "\($0.key.repr): \($0.value.repr)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for one Python literal, on bytes. Every
/// failure is `NPYError.badHeader`; nesting is bounded so that a hostile
/// header cannot exhaust the stack.
struct PyLiteralParser {
    static let maxDepth = 32

    private let s: [UInt8]
    private var i = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { s = bytes }

    /// Parses the whole input as one literal surrounded by optional whitespace.
    static func parse(_ bytes: [UInt8]) throws -> PyLiteral {
        var p = PyLiteralParser(bytes)
        p.skipWhitespace()
        let v = try p.value()
        p.skipWhitespace()
        guard p.i == p.s.count else { throw p.bad("unexpected \(p.snippet()) after the dictionary") }
        return v
    }

    private func bad(_ why: String) -> BatchLUError { .npy(.badHeader(why)) }

    /// A short printable excerpt at the current position (at most 12 bytes,
    /// trailing whitespace dropped), for messages.
    private func snippet() -> String {
        guard i < s.count else { return "end of header" }
        var end = min(s.count, i + 12)
        while end > i + 1, Self.isWhitespace(s[end - 1]) { end -= 1 }
        let text = String(decoding: s[i..<end], as: UTF8.self)
            .unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
            .joined()
        return "'\(text)'"
    }

    private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C || c == 0x0B
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    private static func isNameChar(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) || c == UInt8(ascii: "_") }

    private mutating func skipWhitespace() {
        while i < s.count, Self.isWhitespace(s[i]) { i += 1 }
    }

    private mutating func value() throws -> PyLiteral {
        guard i < s.count else { throw bad("unexpected end of header") }
        let c = s[i]
        switch c {
        case UInt8(ascii: "{"): return try dict()
        case UInt8(ascii: "("): return try sequence(close: UInt8(ascii: ")"))
        case UInt8(ascii: "["): return try sequence(close: UInt8(ascii: "]"))
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."): return try number()
        default:
            if Self.isDigit(c) { return try number() }
            if Self.isLetter(c) || c == UInt8(ascii: "_") { return try name() }
            throw bad("unexpected \(snippet())")
        }
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw bad("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func dict() throws -> PyLiteral {
        try enter()
        defer { depth -= 1 }
        i += 1  // '{'
        var entries: [(key: PyLiteral, value: PyLiteral)] = []
        while true {
            skipWhitespace()
            guard i < s.count else { throw bad("unterminated dictionary") }
            if s[i] == UInt8(ascii: "}") { i += 1; return .dict(entries) }
            let key = try value()
            skipWhitespace()
            guard i < s.count, s[i] == UInt8(ascii: ":") else { throw bad("expected ':' but found \(snippet())") }
            i += 1
            skipWhitespace()
            let v = try value()
            entries.append((key, v))
            skipWhitespace()
            guard i < s.count else { throw bad("unterminated dictionary") }
            if s[i] == UInt8(ascii: ",") { i += 1; continue }
            if s[i] == UInt8(ascii: "}") { i += 1; return .dict(entries) }
            throw bad("expected ',' or '}' but found \(snippet())")
        }
    }

    /// A tuple or a list. `(x)` without a comma is `x` itself, as in Python.
    private mutating func sequence(close: UInt8) throws -> PyLiteral {
        try enter()
        defer { depth -= 1 }
        let isTuple = close == UInt8(ascii: ")")
        let what = isTuple ? "tuple" : "list"
        i += 1  // '(' or '['
        var items: [PyLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            guard i < s.count else { throw bad("unterminated \(what)") }
            if s[i] == close { i += 1; break }
            items.append(try value())
            skipWhitespace()
            guard i < s.count else { throw bad("unterminated \(what)") }
            if s[i] == UInt8(ascii: ",") { i += 1; sawComma = true; continue }
            if s[i] == close { i += 1; break }
            throw bad("expected ',' or '\(Character(Unicode.Scalar(close)))' but found \(snippet())")
        }
        if !isTuple { return .list(items) }
        if items.count == 1, !sawComma { return items[0] }
        return .tuple(items)
    }

    private mutating func string() throws -> PyLiteral {
        let quote = s[i]
        i += 1
        var bytes: [UInt8] = []
        while true {
            guard i < s.count else { throw bad("unterminated string") }
            let c = s[i]
            if c == quote { i += 1; break }
            if c == 0x0A || c == 0x0D { throw bad("unterminated string") }
            if c == UInt8(ascii: "\\") {
                // Simplified escapes: the next byte is taken literally. Every
                // string a valid BatchLU header holds is plain ASCII anyway.
                guard i + 1 < s.count else { throw bad("unterminated string") }
                bytes.append(s[i + 1])
                i += 2
                continue
            }
            bytes.append(c)
            i += 1
        }
        return .string(String(decoding: bytes, as: UTF8.self))
    }

    private mutating func number() throws -> PyLiteral {
        var negative = false
        var text = ""
        if s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            text.append(Character(Unicode.Scalar(s[i])))
            i += 1
        }
        // The token: letters, digits, '_', '.', and a sign right after an exponent 'e'.
        let start = i
        while i < s.count {
            let c = s[i]
            if Self.isNameChar(c) || c == UInt8(ascii: ".") {
                i += 1
            } else if (c == UInt8(ascii: "+") || c == UInt8(ascii: "-")), i > start,
                      s[i - 1] | 0x20 == UInt8(ascii: "e") {
                i += 1
            } else {
                break
            }
        }
        let body = Array(s[start..<i])
        text += String(decoding: body, as: UTF8.self)
        guard !body.isEmpty else { throw bad("expected a number but found \(snippet())") }
        // An integer: digits, single '_' between digits, optional Python 2 'L'.
        var digits = body[...]
        if let last = digits.last, last | 0x20 == UInt8(ascii: "l") { digits = digits.dropLast() }
        var value: Int? = 0
        var isInteger = !digits.isEmpty && Self.isDigit(digits[digits.startIndex])
        var previous: UInt8 = 0
        for c in digits {
            if Self.isDigit(c) {
                if let v = value {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int(c - 0x30))
                    value = (o1 || o2) ? nil : a
                }
            } else if c == UInt8(ascii: "_"), Self.isDigit(previous) {
                // separator
            } else {
                isInteger = false
                break
            }
            previous = c
        }
        if isInteger, previous == UInt8(ascii: "_") { isInteger = false }
        guard isInteger else { return .otherNumber(text) }
        if negative, let v = value { value = -v }
        return .integer(text: text, negative: negative && value != 0, value: value)
    }

    private mutating func name() throws -> PyLiteral {
        let start = i
        while i < s.count, Self.isNameChar(s[i]) { i += 1 }
        let word = String(decoding: s[start..<i], as: UTF8.self)
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default: throw bad("unexpected name '\(word)'")
        }
    }
}

// MARK: - Header

/// A validated `.npy` preamble: the data of `count` elements of `dtype`
/// occupies exactly the bytes `dataOffset ..< dataOffset + count * itemSize`,
/// which is the end of the buffer.
struct NPYHeader: Sendable, Equatable {
    var major: UInt8
    var minor: UInt8
    var dtype: NPYDType
    var shape: [Int]
    var count: Int
    var dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// NumPy's alignment of the data start.
    static let alignment = 64
    /// NumPy leaves room in the header for the first axis to grow to this many digits.
    static let growthAxisMaxDigits = 21

    /// Parses and validates the preamble of `buf` against the whole buffer.
    static func parse(_ buf: UnsafeRawBufferPointer) throws -> NPYHeader {
        func fail(_ e: NPYError) -> BatchLUError { .npy(e) }
        let n = buf.count

        // Magic. A proper prefix of it is a truncated file, not a foreign one.
        for k in 0..<min(n, magic.count) where buf[k] != magic[k] { throw fail(.badMagic) }
        guard n >= 8 else { throw fail(.truncated(expectedBytes: 10, gotBytes: n)) }

        // Version.
        let major = buf[6], minor = buf[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw fail(.unsupportedVersion(major: major, minor: minor))
        }
        let headerStart = 8 + lengthSize
        guard n >= headerStart else { throw fail(.truncated(expectedBytes: headerStart, gotBytes: n)) }

        // Header length and presence.
        var headerLength = 0
        for k in 0..<lengthSize { headerLength |= Int(buf[8 + k]) << (8 * k) }
        let (headerEnd, o) = headerStart.addingReportingOverflow(headerLength)
        // (Only reachable where Int is 32 bits: the declared end is beyond any buffer.)
        guard !o, headerLength >= 0 else { throw fail(.truncated(expectedBytes: Int.max, gotBytes: n)) }
        guard headerEnd <= n else { throw fail(.truncated(expectedBytes: headerEnd, gotBytes: n)) }
        let headerBytes = Array(buf[headerStart..<headerEnd])

        // Encoding: ASCII for 1.0 and 2.0, UTF-8 for 3.0.
        if major < 3 {
            guard headerBytes.allSatisfy({ $0 < 0x80 }) else { throw fail(.nonASCIIHeader) }
        } else {
            guard String(validating: headerBytes, as: UTF8.self) != nil else {
                throw fail(.badHeader("header is not valid UTF-8"))
            }
        }

        // The dict and its three keys, exactly once each.
        guard case let .dict(entries) = try PyLiteralParser.parse(headerBytes) else {
            throw fail(.badHeader("header is not a dictionary"))
        }
        var descrValue: PyLiteral?, fortranValue: PyLiteral?, shapeValue: PyLiteral?
        for (key, value) in entries {
            guard case let .string(k) = key else { throw fail(.badHeader("non-string key \(key.repr)")) }
            switch k {
            case "descr":
                guard descrValue == nil else { throw fail(.badHeader("duplicate key 'descr'")) }
                descrValue = value
            case "fortran_order":
                guard fortranValue == nil else { throw fail(.badHeader("duplicate key 'fortran_order'")) }
                fortranValue = value
            case "shape":
                guard shapeValue == nil else { throw fail(.badHeader("duplicate key 'shape'")) }
                shapeValue = value
            default:
                throw fail(.badHeader("unexpected key '\(k)'"))
            }
        }
        guard let descrValue else { throw fail(.badHeader("missing key 'descr'")) }
        guard let fortranValue else { throw fail(.badHeader("missing key 'fortran_order'")) }
        guard let shapeValue else { throw fail(.badHeader("missing key 'shape'")) }

        // dtype. A list (structured dtype) or anything else not a string is unsupported.
        guard case let .string(descr) = descrValue else { throw fail(.unsupportedDType(descrValue.repr)) }
        let dtype = try NPYDType.classify(descr)

        // Memory order. Rejected even where C and Fortran order coincide (rank <= 1).
        guard case let .bool(fortran) = fortranValue else {
            throw fail(.badHeader("'fortran_order' must be True or False, got \(fortranValue.repr)"))
        }
        if fortran { throw fail(.fortranOrder) }

        // Shape: a tuple of non-negative integers.
        guard case let .tuple(items) = shapeValue else {
            throw fail(.badHeader("'shape' must be a tuple, got \(shapeValue.repr)"))
        }
        var shape: [Int] = []
        shape.reserveCapacity(items.count)
        var tooLarge = false
        for item in items {
            guard case let .integer(text, negative, value) = item else {
                throw fail(.invalidShape("dimension \(item.repr) is not an integer"))
            }
            if negative { throw fail(.invalidShape("dimension \(text) is negative")) }
            if let value { shape.append(value) } else { tooLarge = true }
        }
        if tooLarge { throw fail(.shapeTooLarge(shapeValue.repr)) }

        // Sizes, overflow-checked, then compared with the bytes present. The
        // running product overflowing is refused even when a later dimension
        // is 0, as `Tensor.checkedCount` does (Tensor's shape helpers multiply
        // left to right).
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            if o { throw fail(.shapeTooLarge(shapeValue.repr)) }
            count = p
        }
        let (byteCount, o1) = count.multipliedReportingOverflow(by: dtype.itemSize)
        let (total, o2) = headerEnd.addingReportingOverflow(byteCount)
        if o1 || o2 { throw fail(.shapeTooLarge(shapeValue.repr)) }
        guard total <= n else { throw fail(.truncated(expectedBytes: total, gotBytes: n)) }
        // Stricter than NumPy, which ignores whatever follows the data.
        guard total == n else { throw fail(.badHeader("trailing bytes")) }

        return NPYHeader(major: major, minor: minor, dtype: dtype, shape: shape, count: count,
                         dataOffset: headerEnd)
    }

    /// The preamble NumPy writes for a C-ordered array of `descr` and `shape`.
    static func preamble(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
        }
        let text = Array(dict.utf8)
        let withNewline = text.count + 1
        func padding(_ lengthSize: Int) -> Int {
            alignment - (magic.count + 2 + lengthSize + withNewline) % alignment
        }
        var out = magic
        let v1Length = withNewline + padding(2)
        let pad: Int
        if v1Length <= Int(UInt16.max) {
            out += [1, 0, UInt8(truncatingIfNeeded: v1Length), UInt8(truncatingIfNeeded: v1Length >> 8)]
            pad = padding(2)
        } else {
            // A header this long needs a shape of thousands of dimensions.
            let v2Length = withNewline + padding(4)
            out += [2, 0]
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v2Length >> (8 * k))) }
            pad = padding(4)
        }
        out += text
        out += repeatElement(UInt8(ascii: " "), count: pad)
        out.append(UInt8(ascii: "\n"))
        return out
    }
}

// MARK: - Element bytes

enum NPYCodec {
    /// Reverses every `componentSize`-byte group in place (big-endian hosts only).
    static func swapComponents(_ bytes: UnsafeMutableRawBufferPointer, componentSize: Int) {
        guard componentSize > 1 else { return }
        var start = 0
        while start + componentSize <= bytes.count {
            var a = start, b = start + componentSize - 1
            while a < b { bytes.swapAt(a, b); a += 1; b -= 1 }
            start += componentSize
        }
    }

    /// The elements of a validated buffer, copied with unaligned-safe raw copies.
    static func elements<T: TensorElement>(_ buf: UnsafeRawBufferPointer, _ header: NPYHeader,
                                           as _: T.Type) throws -> [T] {
        // Only the five built-in conformances have matching layouts; a foreign
        // `TensorElement` claiming one of their descr strings is refused, not misread.
        guard MemoryLayout<T>.size == header.dtype.itemSize, MemoryLayout<T>.stride == header.dtype.itemSize else {
            throw BatchLUError.npy(.unsupportedDType("\(header.dtype.rawValue) as \(T.self)"))
        }
        let count = header.count
        let byteCount = count * header.dtype.itemSize  // validated in NPYHeader.parse
        return [T](unsafeUninitializedCapacity: count) { dst, initialized in
            if byteCount > 0 {
                let src = UnsafeRawBufferPointer(rebasing: buf[header.dataOffset..<(header.dataOffset + byteCount)])
                let raw = UnsafeMutableRawBufferPointer(dst)
                raw.copyMemory(from: src)
                #if _endian(big)
                swapComponents(UnsafeMutableRawBufferPointer(rebasing: raw[0..<byteCount]),
                               componentSize: header.dtype.componentSize)
                #endif
            }
            initialized = count
        }
    }

    /// The whole file for `tensor`.
    static func encode<T: TensorElement>(_ tensor: Tensor<T>) -> [UInt8] {
        var out = NPYHeader.preamble(descr: T.npyDescr, shape: tensor.shape)
        let start = out.count
        tensor.elements.withUnsafeBytes { out.append(contentsOf: $0) }
        #if _endian(big)
        if let dtype = NPYDType(rawValue: T.npyDescr) {
            out.withUnsafeMutableBytes { all in
                swapComponents(UnsafeMutableRawBufferPointer(rebasing: all[start...]),
                               componentSize: dtype.componentSize)
            }
        }
        #else
        _ = start
        #endif
        return out
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw BatchLUError.npy(.io("cannot read \(url.path): \(error.localizedDescription)"))
        }
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw BatchLUError.npy(.io("cannot write \(url.path): \(error.localizedDescription)"))
        }
    }
}

// MARK: - Public API

extension Tensor {
    /// Reads a `.npy` buffer whose dtype is `Element`'s (``TensorElement/npyDescr``).
    ///
    /// - Throws: ``BatchLUError/npy(_:)`` for a buffer BatchLU cannot read
    ///   (checked first), then ``BatchLUError/elementTypeMismatch(expected:got:)``
    ///   with `expected: Element.npyDescr` if the file holds another supported dtype.
    public init(npyData: [UInt8]) throws {
        self = try npyData.withUnsafeBytes { try Tensor(npyBytes: $0) }
    }

    /// Reads a `.npy` file; see ``init(npyData:)``. Read failures are ``NPYError/io(_:)``.
    public init(npyFile url: URL) throws {
        let data = try NPYCodec.read(url)
        self = try data.withUnsafeBytes { try Tensor(npyBytes: $0) }
    }

    init(npyBytes buf: UnsafeRawBufferPointer) throws {
        let header = try NPYHeader.parse(buf)
        guard header.dtype.rawValue == Element.npyDescr else {
            throw BatchLUError.elementTypeMismatch(expected: Element.npyDescr, got: header.dtype.rawValue)
        }
        self.init(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Element.self))
    }

    /// The `.npy` file for this tensor, byte for byte what `numpy.save` writes
    /// for the same array: format 1.0 (2.0 if the header needs more than
    /// 65535 bytes), little-endian, C order.
    public func npyData() -> [UInt8] { NPYCodec.encode(self) }

    /// Writes ``npyData()`` to `url` (atomically). Failures are ``NPYError/io(_:)``.
    public func writeNPY(to url: URL) throws { try NPYCodec.write(npyData(), to: url) }
}

extension AnyTensor {
    /// Reads a `.npy` buffer of any supported dtype (`<f4 <f8 <c8 <c16 <i4`).
    /// - Throws: ``BatchLUError/npy(_:)``.
    public init(npyData: [UInt8]) throws {
        self = try npyData.withUnsafeBytes { try AnyTensor(npyBytes: $0) }
    }

    /// Reads a `.npy` file; see ``init(npyData:)``. Read failures are ``NPYError/io(_:)``.
    public init(npyFile url: URL) throws {
        let data = try NPYCodec.read(url)
        self = try data.withUnsafeBytes { try AnyTensor(npyBytes: $0) }
    }

    init(npyBytes buf: UnsafeRawBufferPointer) throws {
        let header = try NPYHeader.parse(buf)
        switch header.dtype {
        case .f4: self = .float32(Tensor(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Float.self)))
        case .f8: self = .float64(Tensor(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Double.self)))
        case .c8: self = .complex64(Tensor(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Complex<Float>.self)))
        case .c16: self = .complex128(Tensor(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Complex<Double>.self)))
        case .i4: self = .int32(Tensor(unchecked: header.shape, elements: try NPYCodec.elements(buf, header, as: Int32.self)))
        }
    }

    /// The `.npy` file for this tensor; see ``Tensor/npyData()``.
    public func npyData() -> [UInt8] {
        switch self {
        case let .float32(t): return t.npyData()
        case let .float64(t): return t.npyData()
        case let .complex64(t): return t.npyData()
        case let .complex128(t): return t.npyData()
        case let .int32(t): return t.npyData()
        }
    }

    /// Writes ``npyData()`` to `url` (atomically). Failures are ``NPYError/io(_:)``.
    public func writeNPY(to url: URL) throws { try NPYCodec.write(npyData(), to: url) }
}
