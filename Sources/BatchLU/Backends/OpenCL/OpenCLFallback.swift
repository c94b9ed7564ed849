/// The automatic choice's OpenCL backend: every call runs on the OpenCL
/// device, and when the device fails during it (a build, allocation or
/// launch error: ``BatchLUError/backendUnavailable(backend:reason:)``) the
/// whole call runs again on the CPU backend, with a logged warning. Nothing
/// the device computed before the failure is used, so the result is complete
/// or the call throws. Only the automatic choice wraps its backend this way;
/// a backend the caller names (`.opencl`, `.custom`, `BATCHLU_BACKEND`)
/// throws instead.
struct OpenCLWithCPUFallback: LUBackend {
    let opencl: OpenCLBackend
    let cpu: CPUBackend
    /// Where the warning goes (the BatchLU logger; tests capture it).
    let warn: @Sendable (String) -> Void

    init(_ opencl: OpenCLBackend, cpu: CPUBackend = CPUBackend(),
         warn: @escaping @Sendable (String) -> Void = { BatchLULog.logger.warning("\($0)") }) {
        self.opencl = opencl
        self.cpu = cpu
        self.warn = warn
    }

    var name: String { opencl.name }

    private func run<R>(_ op: String, _ device: () throws -> R, cpu host: () throws -> R) throws -> R {
        do {
            return try device()
        } catch let BatchLUError.backendUnavailable(backend, reason) {
            warn("BatchLU: \(op) failed on \(backend) (\(reason)); running it on the CPU backend")
            return try host()
        }
    }

    func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T> {
        try run("luFactor", { try opencl.luFactor(a, pivot: pivot) }, cpu: { try cpu.luFactor(a, pivot: pivot) })
    }

    func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                              adjoint: Bool) throws -> Tensor<T> {
        try run("luSolve", { try opencl.luSolve(factors, b, factorIndex: factorIndex, adjoint: adjoint) },
                cpu: { try cpu.luSolve(factors, b, factorIndex: factorIndex, adjoint: adjoint) })
    }

    func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T> {
        try run("luFactorBackward", { try opencl.luFactorBackward(factors, gradLU) },
                cpu: { try cpu.luFactorBackward(factors, gradLU) })
    }

    func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T> {
        try run("luUnpack", { try opencl.luUnpack(factors) }, cpu: { try cpu.luUnpack(factors) })
    }

    func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T> {
        try run("det", { try opencl.det(factors) }, cpu: { try cpu.det(factors) })
    }

    func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        try run("slogdet", { try opencl.slogdet(factors) }, cpu: { try cpu.slogdet(factors) })
    }
}
