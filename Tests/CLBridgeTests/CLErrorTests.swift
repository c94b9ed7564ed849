import Testing
@testable import CLBridge

@Test func symbolicNames() {
    #expect(CLError.symbol(-5) == "CL_OUT_OF_RESOURCES")
    #expect(CLError.symbol(-4) == "CL_MEM_OBJECT_ALLOCATION_FAILURE")
    #expect(CLError(status: -11, call: "clBuildProgram", buildLog: "error: x").description.contains("CL_BUILD_PROGRAM_FAILURE"))
}
