// swift-tools-version:5.10
import PackageDescription

// Baseline x86-64 turns SIMD FMA into per-lane library calls; the machines we target all have AVX2 + FMA.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]

let package = Package(
    name: "azr-gym",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "azr", targets: ["azr"]),
        .executable(name: "azr-zygote", targets: ["azr-zygote"]),
        .executable(name: "azr-fuzz", targets: ["azr-fuzz"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
        .library(name: "Tasks", targets: ["Tasks"]),
        .library(name: "Gym", targets: ["Gym"]),
        .library(name: "Trainer", targets: ["Trainer"]),
        .library(name: "Service", targets: ["Service"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        .systemLibrary(name: "CPython", path: "Sources/CPython", pkgConfig: "python3-embed",
                       providers: [.apt(["libpython3-dev"])]),
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The zygote is plain C on purpose: no Swift runtime, no threads, no crash handler, a small address
        // space to fork from. It only forks, confines and reports; all policy decisions live in Sandbox.
        // The Embedded flag is what makes the Swift driver link it as plain C, without swiftrt.o and
        // libswiftCore (and libstdc++ and libgcc_s behind it): fifteen mappings that every fork would copy and
        // every child's exit tear down for nothing.
        .executableTarget(name: "azr-zygote", dependencies: ["CPython"], path: "Sources/Zygote",
                          cSettings: [.unsafeFlags(["-O2"])],
                          linkerSettings: [.unsafeFlags(["-enable-experimental-feature", "Embedded"])]),
        .target(name: "Sandbox",
                dependencies: ["CSeccomp", .product(name: "BigInt", package: "BigInt")],
                swiftSettings: fastMath),
        .target(name: "Tasks", dependencies: ["Sandbox"]),
        .target(name: "Gym", dependencies: ["Tasks", "Sandbox", "Trainer"]),
        .target(name: "Trainer", dependencies: ["CBLAS"], swiftSettings: fastMath),
        // `azr serve`: a SandboxFusion-compatible HTTP service over the sandbox, and nothing else of ours.
        .target(name: "Service",
                dependencies: ["Sandbox",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")]),
        // A task type written outside the gym, as a user would: examples/custom-task.
        .target(name: "ExampleTasks", dependencies: ["Tasks", "Sandbox"], path: "examples/custom-task"),
        .executableTarget(name: "azr",
                          dependencies: ["Sandbox", "Tasks", "Gym", "Trainer", "Service", "ExampleTasks",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: fastMath),
        // Seeded mutation fuzzing of the parsers (`make fuzz`; a short run is part of `make test`).
        .executableTarget(name: "azr-fuzz",
                          dependencies: ["Sandbox", "Tasks", "Gym", "Trainer", "Service", "ExampleTasks",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/Fuzz"),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "azr-zygote", "azr"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "Sandbox", "azr-zygote", "azr"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "azr"], exclude: ["reference"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "Sandbox", "azr-zygote"]),
        .testTarget(name: "GymTests", dependencies: ["Gym", "Tasks", "Sandbox", "Trainer", "ExampleTasks", "azr-zygote", "azr", "azr-fuzz"]),
    ]
)
