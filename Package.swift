// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "BatchLU",
    products: [
        .library(name: "BatchLU", targets: ["BatchLU"]),
        .executable(name: "bench-gpu", targets: ["bench-gpu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian packages, found through pkg-config.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "COpenCL", pkgConfig: "OpenCL",
                       providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),

        .target(name: "CLBridge", dependencies: ["COpenCL"]),
        // C kernels: batches of small matrices vectorised across matrices (one
        // variant per instruction set, chosen at run time), and a recursive
        // getrf over OpenBLAS GEMM for larger ones.
        .target(name: "CBatchKernels", dependencies: ["COpenBLAS"]),
        .systemLibrary(name: "CCLBlast", pkgConfig: "clblast",
                       providers: [.apt(["libclblast-dev"])]),
        .target(name: "Kernels", dependencies: ["CLBridge", "CCLBlast", "COpenCL"]),
        .target(
            name: "BatchLU",
            dependencies: [
                "COpenBLAS", "CLAPACKE", "CLBridge", "Kernels", "CBatchKernels",
                .product(name: "ComplexModule", package: "swift-numerics"),
                .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "bench-gpu",
            dependencies: ["BatchLU", "COpenBLAS", "CBatchKernels",
                           .product(name: "ComplexModule", package: "swift-numerics"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "batchlu-soak",
                          dependencies: ["BatchLU", .product(name: "ComplexModule", package: "swift-numerics")]),

        .testTarget(name: "BatchLUTests",
                    dependencies: ["BatchLU", "CLBridge", "Kernels", "COpenBLAS", "CLAPACKE", "CBatchKernels",
                                   .product(name: "ComplexModule", package: "swift-numerics")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CLBridgeTests", dependencies: ["CLBridge"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .executableTarget(name: "gaussian-loglik", dependencies: ["BatchLU"],
                          path: "Examples/GaussianLogLikelihood"),
    ]
)
