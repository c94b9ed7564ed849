import ComplexModule
import Foundation
import Testing
@testable import BatchLU

/// `.npy` reading and writing: round trips, files written by NumPy, every
/// rejection with its exact error, and a seeded mutation fuzz test.
@Suite struct NPYTests {
    // MARK: Helpers

    /// A `.npy` buffer with an arbitrary header text, padded like NumPy's
    /// (spaces and a final newline, data at a multiple of `align`).
    static func buffer(_ header: [UInt8], version: (UInt8, UInt8) = (1, 0), dataBytes: Int = 0,
                       align: Int = 64, newline: Bool = true) -> [UInt8] {
        let lengthSize = version.0 == 1 ? 2 : 4
        var h = header
        if newline {
            let used = 8 + lengthSize + h.count + 1
            h += [UInt8](repeating: 0x20, count: (align - used % align) % align) + [0x0A]
        }
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version.0, version.1]
        for k in 0..<lengthSize { out.append(UInt8(truncatingIfNeeded: h.count >> (8 * k))) }
        out += h
        out += (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        return out
    }

    static func buffer(_ header: String, version: (UInt8, UInt8) = (1, 0), dataBytes: Int = 0,
                       align: Int = 64, newline: Bool = true) -> [UInt8] {
        buffer(Array(header.utf8), version: version, dataBytes: dataBytes, align: align, newline: newline)
    }

    /// The standard header for `descr` and `shape` text.
    static func dict(_ descr: String = "<f8", fortran: String = "False", shape: String = "(2, 3)") -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
    }

    static func expectNPY(_ expected: NPYError, _ bytes: [UInt8],
                          sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(.npy(expected), sourceLocation: sourceLocation) { try AnyTensor(npyData: bytes) }
    }

    static var fixtures: URL {
        get throws { try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)) }
    }

    static func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name + ".npy")))
    }

    static let shapes: [[Int]] = [[], [0], [5], [2, 0, 3], [2, 3, 4]]

    /// Writes, reads back (typed and untyped), checks the layout of the bytes.
    static func roundTrip<T: TensorElement>(_ make: (Int) -> T, _ wrap: (Tensor<T>) -> AnyTensor) throws {
        for shape in shapes {
            let count = shape.reduce(1, *)
            let t = try Tensor<T>(shape: shape, elements: (0..<count).map(make))
            let bytes = t.npyData()
            let header = try bytes.withUnsafeBytes { try NPYHeader.parse($0) }
            #expect(header.major == 1 && header.minor == 0)
            #expect(header.dataOffset % 64 == 0)
            #expect(header.shape == shape)
            #expect(bytes.count == header.dataOffset + count * MemoryLayout<T>.stride)
            #expect(bytes[header.dataOffset - 1] == 0x0A)
            #expect(try Tensor<T>(npyData: bytes) == t)
            let any = try AnyTensor(npyData: bytes)
            #expect(any == wrap(t))
            #expect(any.shape == shape)
            #expect(any.dtype == T.npyDescr)
            #expect(try any.tensor(as: T.self) == t)
            #expect(any.npyData() == bytes)
        }
    }

    // MARK: Round trips

    @Test func roundTripAllDTypes() throws {
        try Self.roundTrip({ Float($0) * 0.5 - 3 }, AnyTensor.float32)
        try Self.roundTrip({ Double($0) / 3 - 1e300 * Double($0 % 2) }, AnyTensor.float64)
        try Self.roundTrip({ Complex<Float>(Float($0), -Float($0) / 7) }, AnyTensor.complex64)
        try Self.roundTrip({ Complex<Double>(Double($0) / 3, 0x1p-1030 * Double($0)) }, AnyTensor.complex128)
        try Self.roundTrip({ Int32($0) * 104_729 - Int32.max / 2 }, AnyTensor.int32)
    }

    @Test func specialValuesSurviveBitForBit() throws {
        let values: [Double] = [.nan, -.nan, .signalingNaN, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)]
        let t = try Tensor<Double>(shape: [values.count], elements: values)
        let back = try Tensor<Double>(npyData: t.npyData())
        #expect(back.elements.map(\.bitPattern) == values.map(\.bitPattern))
        // Complex's `real`/`imaginary` normalize non-finite values, so compare the stored bytes.
        let f = try Tensor<Complex<Float>>(shape: [2], elements: [Complex(Float.nan, -0.0), Complex(-0.0, .infinity)])
        let fb = try Tensor<Complex<Float>>(npyData: f.npyData())
        #expect(fb.elements.withUnsafeBytes { Array($0) } == f.elements.withUnsafeBytes { Array($0) })
        let raw = fb.elements.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        #expect(raw == [Float.nan.bitPattern, (-0.0 as Float).bitPattern, (-0.0 as Float).bitPattern,
                        Float.infinity.bitPattern])
    }

    /// A header over 65535 bytes (a 22000-dimensional shape) needs format 2.0.
    @Test func longHeaderWritesVersion2() throws {
        let t = try Tensor<Float>(shape: Array(repeating: 1, count: 22_000), elements: [42])
        let bytes = t.npyData()
        #expect(bytes[6] == 2 && bytes[7] == 0)
        let header = try bytes.withUnsafeBytes { try NPYHeader.parse($0) }
        #expect(header.dataOffset % 64 == 0)
        #expect(try Tensor<Float>(npyData: bytes) == t)
    }

    @Test func fileRoundTripAndIOErrors() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("batchlu-npy-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tensor<Complex<Double>>.random([2, 3, 3], seed: 7)
        let url = dir.appendingPathComponent("a.npy")
        try t.writeNPY(to: url)
        #expect(try Tensor<Complex<Double>>(npyFile: url) == t)
        #expect(try AnyTensor(npyFile: url) == .complex128(t))
        try AnyTensor.int32(Tensor(shape: [2], elements: [1, 2])).writeNPY(to: url)
        #expect(try Tensor<Int32>(npyFile: url).elements == [1, 2])

        func expectIO(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try body()
                Issue.record("expected NPYError.io", sourceLocation: sourceLocation)
            } catch let BatchLUError.npy(.io(message)) {
                #expect(!message.isEmpty, sourceLocation: sourceLocation)
            } catch {
                Issue.record("expected NPYError.io, got \(error)", sourceLocation: sourceLocation)
            }
        }
        let missing = dir.appendingPathComponent("missing.npy")
        expectIO { _ = try AnyTensor(npyFile: missing) }
        expectIO { _ = try Tensor<Double>(npyFile: missing) }
        expectIO { _ = try AnyTensor(npyFile: dir) }
        expectIO { try t.writeNPY(to: dir.appendingPathComponent("no/such/dir/a.npy")) }
    }

    // MARK: Files written by NumPy

    @Test func readsNumPyFiles() throws {
        let scalar = try Tensor<Float>(npyFile: Self.fixtures.appendingPathComponent("npy_f4_scalar.npy"))
        #expect(scalar.shape == [] && scalar.elements == [1.5])

        let cube = try Tensor<Double>(npyFile: Self.fixtures.appendingPathComponent("npy_f8_2x3x4.npy"))
        #expect(cube.shape == [2, 3, 4])
        #expect(cube[1, 2, 3] == 123 && cube[0, 1, 0] == 10 && cube.elements == cube.elements.sorted())

        let empty = try AnyTensor(npyFile: Self.fixtures.appendingPathComponent("npy_c8_2x0x3.npy"))
        #expect(empty == .complex64(try Tensor(shape: [2, 0, 3], elements: [])))

        let vector = try Tensor<Complex<Double>>(npyFile: Self.fixtures.appendingPathComponent("npy_c16_5.npy"))
        let expected: [Complex<Double>] = (0..<5).map { (k: Int) in Complex(Double(k), Double(k - 10)) }
        #expect(vector.elements == expected)

        #expect(try AnyTensor(npyFile: Self.fixtures.appendingPathComponent("npy_i4_0.npy"))
                == .int32(try Tensor(shape: [0], elements: [])))
        let ints = try Tensor<Int32>(npyFile: Self.fixtures.appendingPathComponent("npy_i4_2x2.npy"))
        #expect(ints.shape == [2, 2] && ints.elements == [.min, -1, 0, .max])

        let special = try Tensor<Double>(npyFile: Self.fixtures.appendingPathComponent("npy_f8_special.npy"))
        #expect(special.elements[0].isNaN)
        #expect(Array(special.elements.dropFirst()) == [.infinity, -.infinity, 0, .leastNonzeroMagnitude,
                                                         .greatestFiniteMagnitude])
        #expect(special.elements[3].sign == .minus)

        let v2 = try Tensor<Float>(npyFile: Self.fixtures.appendingPathComponent("npy_v2_f4.npy"))
        #expect(v2.shape == [2, 3] && v2.elements == [0, 1, 2, 3, 4, 5])
        let v3 = try Tensor<Int32>(npyFile: Self.fixtures.appendingPathComponent("npy_v3_i4.npy"))
        #expect(v3.shape == [4] && v3.elements == [0, 1, 2, 3])
    }

    /// Our writer produces exactly NumPy's bytes (header text, spare growth
    /// space, padding), for every format-1.0 fixture NumPy wrote.
    @Test(arguments: ["npy_f4_scalar", "npy_f8_2x3x4", "npy_c8_2x0x3", "npy_c16_5", "npy_i4_0", "npy_i4_2x2",
                      "npy_f8_special", "f8_square_A", "c8_tall_lu", "f4_wide_piv", "c16_square_info"])
    func writesNumPyBytes(_ name: String) throws {
        let bytes = try Self.fixtureBytes(name)
        #expect(try AnyTensor(npyData: bytes).npyData() == bytes)
    }

    @Test func rejectsNumPyFilesBatchLUCannotRead() throws {
        Self.expectNPY(.fortranOrder, try Self.fixtureBytes("npy_err_fortran"))
        Self.expectNPY(.bigEndian(">f8"), try Self.fixtureBytes("npy_err_bigendian"))
        Self.expectNPY(.objectDType, try Self.fixtureBytes("npy_err_object"))
        Self.expectNPY(.unsupportedDType("<i8"), try Self.fixtureBytes("npy_err_i8"))
    }

    // MARK: Element type

    @Test func elementTypeMismatch() throws {
        let f8 = try Tensor<Double>(shape: [2], elements: [1, 2]).npyData()
        expectError(.elementTypeMismatch(expected: "<f4", got: "<f8")) { try Tensor<Float>(npyData: f8) }
        expectError(.elementTypeMismatch(expected: "<c16", got: "<f8")) { try Tensor<Complex<Double>>(npyData: f8) }
        expectError(.elementTypeMismatch(expected: "<i4", got: "<f8")) { try Tensor<Int32>(npyData: f8) }
        let any = try AnyTensor(npyData: f8)
        expectError(.elementTypeMismatch(expected: "<c8", got: "<f8")) { try any.tensor(as: Complex<Float>.self) }
        #expect(try any.tensor(as: Double.self).elements == [1, 2])
        // An unreadable file is reported as such, before the element type.
        expectError(.npy(.unsupportedDType("<i8"))) { try Tensor<Float>(npyData: Self.buffer(Self.dict("<i8"))) }
        expectError(.npy(.truncated(expectedBytes: 176, gotBytes: 128))) {
            try Tensor<Float>(npyData: Self.buffer(Self.dict("<f8")))
        }
    }

    // MARK: Preamble errors

    @Test func badMagicVersionAndTruncatedPreamble() {
        let good = Self.buffer(Self.dict(), dataBytes: 48)
        var b = good
        b[5] = UInt8(ascii: "Z")
        Self.expectNPY(.badMagic, b)
        Self.expectNPY(.badMagic, Array("PK\u{3}\u{4}0000000000".utf8))   // a zip (.npz)
        Self.expectNPY(.badMagic, [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x00])
        Self.expectNPY(.truncated(expectedBytes: 10, gotBytes: 0), [])
        Self.expectNPY(.truncated(expectedBytes: 10, gotBytes: 4), Array(good.prefix(4)))
        Self.expectNPY(.truncated(expectedBytes: 10, gotBytes: 7), Array(good.prefix(7)))
        Self.expectNPY(.truncated(expectedBytes: 10, gotBytes: 9), Array(good.prefix(9)))
        for (major, minor) in [(1, 1), (0, 0), (4, 0), (2, 1), (255, 255)] as [(UInt8, UInt8)] {
            b = good
            b[6] = major
            b[7] = minor
            Self.expectNPY(.unsupportedVersion(major: major, minor: minor), b)
        }
        // Version 2.0 needs a 4-byte length.
        let v2 = Self.buffer(Self.dict(), version: (2, 0), dataBytes: 48)
        Self.expectNPY(.truncated(expectedBytes: 12, gotBytes: 11), Array(v2.prefix(11)))
        // Header shorter than declared.
        Self.expectNPY(.truncated(expectedBytes: 128, gotBytes: 100), Array(good.prefix(100)))
        Self.expectNPY(.truncated(expectedBytes: 128, gotBytes: 127), Array(v2.prefix(127)))
        b = good
        b[8] = 0xFF
        b[9] = 0xFF
        Self.expectNPY(.truncated(expectedBytes: 10 + 65535, gotBytes: good.count), b)
        var v2Huge = v2
        v2Huge.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])
        Self.expectNPY(.truncated(expectedBytes: 12 + 0xFFFF_FFFF, gotBytes: v2.count), v2Huge)
    }

    @Test func headerEncoding() throws {
        let nonASCII = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } \u{E9}".utf8)
        Self.expectNPY(.nonASCIIHeader, Self.buffer(nonASCII, dataBytes: 48))
        Self.expectNPY(.nonASCIIHeader, Self.buffer(nonASCII, version: (2, 0), dataBytes: 48))
        // Latin-1 byte, not UTF-8.
        Self.expectNPY(.nonASCIIHeader, Self.buffer(Array(Self.dict().utf8) + [0xE9], dataBytes: 48))
        // 3.0 is UTF-8: valid UTF-8 is decoded (and here it is junk), invalid UTF-8 is refused.
        Self.expectNPY(.badHeader("unexpected '\\u{e9}' after the dictionary"),
                       Self.buffer(Array(Self.dict().utf8) + [0xC3, 0xA9], version: (3, 0), dataBytes: 48))
        Self.expectNPY(.unsupportedDType("<f8\u{E9}"),
                       Self.buffer(Self.dict("<f8\u{E9}"), version: (3, 0), dataBytes: 48))
        Self.expectNPY(.badHeader("header is not valid UTF-8"),
                       Self.buffer(Array(Self.dict().utf8) + [0xE9], version: (3, 0), dataBytes: 48))
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(), version: (3, 0), dataBytes: 48)).shape == [2, 3])
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(), version: (2, 0), dataBytes: 48)).shape == [2, 3])
    }

    // MARK: Header dictionary

    @Test func malformedDictionary() {
        let cases: [(String, String)] = [
            ("{'descr': '<f8', 'fortran_order': False, }", "missing key 'shape'"),
            ("{'fortran_order': False, 'shape': (2, 3)}", "missing key 'descr'"),
            ("{'descr': '<f8', 'shape': (2, 3)}", "missing key 'fortran_order'"),
            ("{}", "missing key 'descr'"),
            (String(Self.dict().dropLast()) + "'extra': 1, }", "unexpected key 'extra'"),
            (String(Self.dict().dropLast()) + "'shape': (2, 3), }", "duplicate key 'shape'"),
            (String(Self.dict().dropLast()) + "'descr': '<f8', }", "duplicate key 'descr'"),
            (String(Self.dict().dropLast()) + "'fortran_order': True}", "duplicate key 'fortran_order'"),
            ("{1: '<f8'}", "non-string key 1"),
            (Self.dict() + " junk", "unexpected 'junk' after the dictionary"),
            (Self.dict() + "}", "unexpected '}' after the dictionary"),
            ("['descr', '<f8']", "header is not a dictionary"),
            ("", "unexpected end of header"),
            ("{'descr': '<f8'", "unterminated dictionary"),
            ("{'descr': '<f8' 'shape': (2, 3)}", "expected ',' or '}' but found ''shape': (2,'"),
            ("{'descr' '<f8'}", "expected ':' but found ''<f8'}'"),
            ("{'descr: '<f8'}", "expected ':' but found '<f8'}'"),
            ("{'descr': '<f8}", "unterminated string"),
            ("{'descr': '<f8', 'fortran_order': false, 'shape': (2, 3)}", "unexpected name 'false'"),
            ("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3)}", "'fortran_order' must be True or False, got 0"),
            ("{'descr': '<f8', 'fortran_order': None, 'shape': (2, 3)}", "'fortran_order' must be True or False, got None"),
            (Self.dict(shape: "[2, 3]"), "'shape' must be a tuple, got [2, 3]"),
            (Self.dict(shape: "(5)"), "'shape' must be a tuple, got 5"),
            (Self.dict(shape: "6"), "'shape' must be a tuple, got 6"),
            (Self.dict(shape: "(2, 3"), "unexpected '}'"),
            (Self.dict(shape: "(2,, 3)"), "unexpected ', 3), }'"),
            (Self.dict(shape: "(2 3)"), "expected ',' or ')' but found '3), }'"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } # comment", "unexpected '# comment' after the dictionary"),
            ("{'descr': " + String(repeating: "(", count: 40) + ")", "nesting deeper than 32 levels"),
            ("\u{0}" + Self.dict(), "unexpected '\\u{0}{'descr': ''"),
        ]
        for (header, why) in cases {
            Self.expectNPY(.badHeader(why), Self.buffer(header, dataBytes: 48))
        }
    }

    /// Variants NumPy writes or reads that are accepted.
    @Test func lenientSyntax() throws {
        let accepted = [
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}",
            "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3,),}",
            "{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f8'}",    // Python 2 longs, any key order
            "  {'descr':'<f8','fortran_order':False,'shape':(2,3)}\t\r\n",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (+2, 0_3)}",
            "{'descr': '<\\f8', 'fortran_order': False, 'shape': (2, 3)}",   // an escape
        ]
        for header in accepted {
            #expect(try AnyTensor(npyData: Self.buffer(header, dataBytes: 48)).shape == [2, 3], "\(header)")
        }
        // Data at any offset (NumPy before 1.14 aligned to 16), no final newline.
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(), dataBytes: 48, align: 16)).shape == [2, 3])
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(), dataBytes: 48, newline: false)).shape == [2, 3])
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(shape: "()"), dataBytes: 8)).shape == [])
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(shape: "(0, 1000000000000)"))).shape == [0, 1_000_000_000_000])
        #expect(try AnyTensor(npyData: Self.buffer(Self.dict(shape: "(-0,)"))).shape == [0])
    }

    // MARK: dtype, order, shape

    @Test func unsupportedDTypes() {
        for d in ["<i8", "<f2", "<u4", "|u1", "|b1", "<i2", "=f8", "f8", "<f16", "<c32", "<M8[ns]", "|S5", "<U3", "", ">i8", "|V16"] {
            Self.expectNPY(.unsupportedDType(d), Self.buffer(Self.dict(d), dataBytes: 48))
        }
        for d in [">f4", ">f8", ">c8", ">c16", ">i4"] {
            Self.expectNPY(.bigEndian(d), Self.buffer(Self.dict(d), dataBytes: 48))
        }
        for d in ["|O", "O", "<O", "|O8"] {
            Self.expectNPY(.objectDType, Self.buffer(Self.dict(d), dataBytes: 48))
        }
        let structured = "{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }"
        Self.expectNPY(.unsupportedDType("[('a', '<f8'), ('b', '<i4')]"), Self.buffer(structured, dataBytes: 24))
        Self.expectNPY(.unsupportedDType("None"), Self.buffer("{'descr': None, 'fortran_order': False, 'shape': ()}"))
    }

    @Test func fortranOrder() {
        Self.expectNPY(.fortranOrder, Self.buffer(Self.dict(fortran: "True"), dataBytes: 48))
        Self.expectNPY(.fortranOrder, Self.buffer(Self.dict(fortran: "True", shape: "(6,)"), dataBytes: 48))
    }

    @Test func invalidShapes() {
        let cases: [(String, NPYError)] = [
            ("(2, -1)", .invalidShape("dimension -1 is negative")),
            ("(-99999999999999999999999,)", .invalidShape("dimension -99999999999999999999999 is negative")),
            ("(2.5,)", .invalidShape("dimension 2.5 is not an integer")),
            ("(2, 3.0)", .invalidShape("dimension 3.0 is not an integer")),
            ("(1e3,)", .invalidShape("dimension 1e3 is not an integer")),
            ("(0x10,)", .invalidShape("dimension 0x10 is not an integer")),
            ("(2_,)", .invalidShape("dimension 2_ is not an integer")),
            ("(True, 3)", .invalidShape("dimension True is not an integer")),
            ("('2', 3)", .invalidShape("dimension '2' is not an integer")),
            ("(None,)", .invalidShape("dimension None is not an integer")),
            ("((2, 3),)", .invalidShape("dimension (2, 3) is not an integer")),
        ]
        for (shape, error) in cases {
            Self.expectNPY(error, Self.buffer(Self.dict(shape: shape), dataBytes: 48))
        }
    }

    /// Sizes are checked against the bytes present before anything of the
    /// declared size is allocated: these headers claim up to exabytes.
    @Test func hugeShapesNeverAllocate() {
        for shape in ["(1000000000000, 1000000000000)", "(99999999999999999999,)", "(4611686018427387904,)",
                      "(3037000500, 3037000500)", "(1152921504606846976, 2, 1)",
                      // Empty, but a partial product overflows: refused like Tensor.checkedCount does.
                      "(1000000000000, 1000000000000, 0)"] {
            Self.expectNPY(.shapeTooLarge(shape), Self.buffer(Self.dict(shape: shape)))
        }
        // 2^60 elements of 8 bytes: the count fits, the byte size does not.
        Self.expectNPY(.shapeTooLarge("(1152921504606846976,)"),
                       Self.buffer(Self.dict(shape: "(1152921504606846976,)")))
        // Fits in Int, far beyond the buffer: truncated, with the size the file would need.
        Self.expectNPY(.truncated(expectedBytes: 128 + 8_000_000_000_000, gotBytes: 128),
                       Self.buffer(Self.dict(shape: "(1000000, 1000000)")))
        Self.expectNPY(.truncated(expectedBytes: 128 + 16 * (1 << 58), gotBytes: 128),
                       Self.buffer(Self.dict("<c16", shape: "(288230376151711744,)")))
        expectError(.npy(.truncated(expectedBytes: 128 + 4 << 40, gotBytes: 128))) {
            try Tensor<Int32>(npyData: Self.buffer(Self.dict("<i4", shape: "(1024, 1024, 1024, 1024)")))
        }
    }

    @Test func dataSizeMustMatch() {
        let good = Self.buffer(Self.dict(), dataBytes: 48)
        Self.expectNPY(.truncated(expectedBytes: 176, gotBytes: 175), Array(good.dropLast()))
        Self.expectNPY(.truncated(expectedBytes: 176, gotBytes: 128), Array(good.prefix(128)))
        Self.expectNPY(.truncated(expectedBytes: 136, gotBytes: 128), Self.buffer(Self.dict(shape: "()")))
        // Stricter than NumPy: nothing may follow the data.
        Self.expectNPY(.badHeader("trailing bytes"), good + [0])
        Self.expectNPY(.badHeader("trailing bytes"), Self.buffer(Self.dict(shape: "(0,)"), dataBytes: 1))
    }

    // MARK: Fuzz

    /// Valid `.npy` buffers of every element type, empty and 0-d included:
    /// the starting points of the mutation tests here and in FuzzTests.
    static func validSamples() throws -> [[UInt8]] {
        [
            try Tensor<Double>.random([2, 3], seed: 1).npyData(),
            try Tensor<Float>.random([4], seed: 2).npyData(),
            try Tensor<Complex<Float>>.random([2, 1, 2], seed: 3).npyData(),
            try Tensor<Complex<Double>>.random([], seed: 4).npyData(),
            try Tensor<Int32>(shape: [3, 0], elements: []).npyData(),
            try Tensor<Int32>(shape: [2, 2], elements: [1, -2, 3, -4]).npyData(),
        ]
    }

    /// 20 000 seeded mutations of valid buffers: every result is a decode or a
    /// thrown `BatchLUError`, never a crash; what decodes re-encodes consistently.
    @Test func seededMutationsNeverCrash() throws {
        var bases: [[UInt8]] = try Self.validSamples() + [
            Self.buffer(Self.dict(), version: (2, 0), dataBytes: 48),
            Self.buffer(Self.dict("<c8", shape: "(3L,)"), version: (3, 0), dataBytes: 24),
        ]
        bases.append(try Self.fixtureBytes("npy_err_object"))
        let tokens = Array("(){}[],:'\"-+._0123456789LeTrueFalseNone<>|fci \n\u{7F}".utf8) + [0x80, 0xC3, 0xFF, 0x00]
        var rng = SplitMix64(seed: 0x5EED_2024)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }

        var decoded = 0, rejected = 0
        var kinds = Set<String>()
        for trial in 0..<20_000 {
            var b = bases[trial % bases.count]
            for _ in 0...below(3) {
                switch below(8) {
                case 0 where !b.isEmpty:  // flip bits of a byte
                    b[below(b.count)] ^= UInt8(truncatingIfNeeded: 1 + below(255))
                case 1:  // truncate
                    b.removeLast(below(b.count + 1))
                case 2 where b.count >= 12:  // edit the header length
                    let width = b[6] == 1 ? 2 : 4
                    let value = below(3) == 0 ? Int(rng.next() & 0xFFFF_FFFF) : max(0, Int(b[8]) + below(129) - 64)
                    for k in 0..<width { b[8 + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
                case 3:  // insert bytes
                    let at = below(b.count + 1)
                    b.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                case 4 where !b.isEmpty:  // delete a range
                    let at = below(b.count)
                    b.removeSubrange(at..<min(b.count, at + 1 + below(8)))
                case 5 where b.count > 10:  // a syntax token into the header region
                    b[10 + below(min(b.count, 128) - 10)] = tokens[below(tokens.count)]
                case 6 where b.count > 10:  // digits into the header (shape edits)
                    let at = 10 + below(min(b.count, 128) - 10)
                    b.insert(contentsOf: Array(String(rng.next() >> below(64)).utf8), at: at)
                case 7 where b.count >= 8:  // version bytes
                    b[6] = UInt8(below(5))
                    b[7] = UInt8(below(2))
                default:
                    break
                }
            }
            do {
                let t = try AnyTensor(npyData: b)
                decoded += 1
                kinds.insert(t.dtype)
                let count = t.shape.reduce(1, *)
                switch t {
                case let .float32(x): #expect(x.count == count)
                case let .float64(x): #expect(x.count == count)
                case let .complex64(x): #expect(x.count == count)
                case let .complex128(x): #expect(x.count == count)
                case let .int32(x): #expect(x.count == count)
                }
                let again = try AnyTensor(npyData: t.npyData())
                #expect(again.npyData() == t.npyData())
            } catch is BatchLUError {
                rejected += 1
            } catch {
                Issue.record("trial \(trial): non-BatchLUError \(error)")
            }
            // The typed entry point goes through the same checks.
            do { _ = try Tensor<Double>(npyData: b) } catch is BatchLUError {} catch {
                Issue.record("trial \(trial): non-BatchLUError \(error)")
            }
        }
        #expect(decoded + rejected == 20_000)
        #expect(decoded > 100 && rejected > 10_000, "decoded \(decoded), rejected \(rejected)")
        #expect(kinds.count >= 3)
    }
}
