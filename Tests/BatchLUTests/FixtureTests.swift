import ComplexModule
import Foundation
import Testing
@testable import BatchLU

/// BatchLU against SciPy's LAPACK (`?getrf`) and NumPy's `det`, `slogdet`
/// and `solve`, on the fixtures `scripts/make_fixtures.py` writes (see its
/// docstring for the file names and for how the inputs are chosen).
///
/// The script only keeps random matrices whose pivots win by at least 2%
/// at every step (so rounding cannot change them), whose SciPy LU is within
/// 5·n·ε·‖A‖ of an extended-precision elimination, and, when square, whose
/// 2-norm condition number is at most ``maxCond``. Hence: pivots and info
/// must be equal exactly; LU within 50·n·ε·‖A‖_F (normwise, per matrix);
/// det, slogdet and solve within 50·n·ε·κ relative.
@Suite struct FixtureTests {
    /// The bound `make_fixtures.py` enforces on κ₂(A) of the square inputs.
    static let maxCond = 30.0

    static func load<T: TensorElement>(_ name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try Tensor<T>(npyFile: dir.appendingPathComponent(name + ".npy"))
    }

    /// `‖x − y‖_F` over matching flat slices.
    static func distance<T: LUScalar>(_ x: ArraySlice<T>, _ y: ArraySlice<T>) -> Double {
        fro(zip(x, y).map { $0 - $1 })
    }

    static func rows<T>(_ t: Tensor<T>, _ b: Int) -> ArraySlice<T> {
        let size = t.rows * t.cols
        return t.elements[(b * size)..<((b + 1) * size)]
    }

    /// Everything for one dtype (`tag` is the file prefix: f4, f8, c8, c16).
    static func check<T: LUScalar>(_ tag: String, _: T.Type, _ backend: TestBackend) throws {
        let eps = T.eps

        // Factorization: every case.
        for kind in ["square", "tall", "wide", "singular"] {
            let name = "\(tag)_\(kind)"
            let a: Tensor<T> = try load("\(name)_A")
            let lu: Tensor<T> = try load("\(name)_lu")
            let piv: Tensor<Int32> = try load("\(name)_piv")
            let info: Tensor<Int32> = try load("\(name)_info")
            let f = try luFactorEx(a, backend: backend.choice)
            #expect(f.lu.shape == lu.shape, "\(name)")
            #expect(f.pivots == piv, "\(name): pivots differ from SciPy")
            #expect(f.info == info, "\(name): info differs from SciPy")
            let n = max(a.rows, a.cols)
            for b in 0..<a.batchCount {
                let err = distance(rows(f.lu, b), rows(lu, b))
                let tol = 50 * Double(n) * eps * fro(rows(a, b))
                #expect(err <= tol, "\(name) #\(b): ‖LU − LU_scipy‖ = \(err) > \(tol)")
            }
            if kind == "singular" { #expect(info.elements == [3, 4]) } else { #expect(info.elements.allSatisfy { $0 == 0 }) }
            // SciPy's factors are accepted as they are.
            _ = try LUFactors(lu: lu, pivots: piv, info: info)
        }

        // det and slogdet: square (nonsingular) and singular.
        let n = 5
        let tol = 50 * Double(n) * eps * maxCond
        let a: Tensor<T> = try load("\(tag)_square_A")
        let d = try det(a, backend: backend.choice)
        let refDet: Tensor<T> = try load("\(tag)_square_det")
        let (sign, logAbsDet) = try slogdet(a, backend: backend.choice)
        let refSign: Tensor<T> = try load("\(tag)_square_sign")
        let refLog: Tensor<T.RealScalar> = try load("\(tag)_square_logabsdet")
        #expect(d.shape == [3] && sign.shape == [3] && logAbsDet.shape == [3])
        for b in 0..<3 {
            let relDet = (d.elements[b] - refDet.elements[b]).absD / refDet.elements[b].absD
            #expect(relDet <= tol, "\(tag) det #\(b): \(d.elements[b]) vs NumPy \(refDet.elements[b])")
            #expect((sign.elements[b] - refSign.elements[b]).absD <= tol, "\(tag) sign #\(b)")
            #expect(abs(Double(logAbsDet.elements[b]) - Double(refLog.elements[b])) <= tol, "\(tag) logAbsDet #\(b)")
        }

        let s: Tensor<T> = try load("\(tag)_singular_A")
        #expect(try det(s, backend: backend.choice).elements.allSatisfy { $0 == .zero })
        #expect(try load("\(tag)_singular_det", as: T.self).elements.allSatisfy { $0 == .zero })
        let (sSign, sLog) = try slogdet(s, backend: backend.choice)
        #expect(sSign.elements.allSatisfy { $0 == .zero })
        #expect(sLog.elements.allSatisfy { $0 == -.infinity })
        #expect(try load("\(tag)_singular_sign", as: T.self).elements.allSatisfy { $0 == .zero })
        #expect(try load("\(tag)_singular_logabsdet", as: T.RealScalar.self).elements.allSatisfy { $0 == -.infinity })

        // Solve, with our factors and with SciPy's.
        let bRHS: Tensor<T> = try load("\(tag)_square_B")
        let x: Tensor<T> = try load("\(tag)_square_X")
        let ours = try luFactorEx(a, backend: backend.choice)
        let scipy = try LUFactors(lu: load("\(tag)_square_lu", as: T.self),
                                  pivots: load("\(tag)_square_piv", as: Int32.self),
                                  info: load("\(tag)_square_info", as: Int32.self))
        for factors in [ours, scipy] {
            let solved = try luSolve(factors, bRHS, backend: backend.choice)
            #expect(solved.shape == [3, 5, 2])
            for b in 0..<3 {
                let err = distance(rows(solved, b), rows(x, b))
                #expect(err <= tol * fro(rows(x, b)), "\(tag) solve #\(b): ‖X − X_numpy‖ = \(err)")
            }
        }
        // det and slogdet from SciPy's factors agree with NumPy too.
        let dScipy = try det(scipy, backend: backend.choice)
        for b in 0..<3 {
            #expect((dScipy.elements[b] - refDet.elements[b]).absD <= tol * refDet.elements[b].absD)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func float32(_ backend: TestBackend) throws { try Self.check("f4", Float.self, backend) }

    @Test(arguments: TestBackend.allCases)
    func float64(_ backend: TestBackend) throws { try Self.check("f8", Double.self, backend) }

    @Test(arguments: TestBackend.allCases)
    func complex64(_ backend: TestBackend) throws { try Self.check("c8", Complex<Float>.self, backend) }

    @Test(arguments: TestBackend.allCases)
    func complex128(_ backend: TestBackend) throws { try Self.check("c16", Complex<Double>.self, backend) }

    /// Every fixture the script writes loads, with the dtype its name says.
    @Test func everyFixtureLoads() throws {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".npy") }
        #expect(names.count >= 100)
        var total = 0
        for file in names where !file.hasPrefix("npy_err_") {
            let url = dir.appendingPathComponent(file)
            total += try Data(contentsOf: url).count
            let t = try AnyTensor(npyFile: url)
            let prefix = file.split(separator: "_")[0]
            let isInteger = file.hasSuffix("_piv.npy") || file.hasSuffix("_info.npy")
            switch (prefix, isInteger) {
            case (_, true): #expect(t.dtype == "<i4", "\(file)")
            case ("f4", _): #expect(t.dtype == "<f4", "\(file)")
            case ("f8", _): #expect(t.dtype == "<f8", "\(file)")
            case ("c8", _):
                #expect(t.dtype == (file.hasSuffix("_logabsdet.npy") ? "<f4" : "<c8"), "\(file)")
            case ("c16", _):
                #expect(t.dtype == (file.hasSuffix("_logabsdet.npy") ? "<f8" : "<c16"), "\(file)")
            default: break
            }
        }
        #expect(total < 300_000)
    }
}
