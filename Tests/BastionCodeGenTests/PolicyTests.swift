import BastionCodeGen
import BastionProtobuf
import BastionRPC
import Foundation
import Testing

/// The generator's handling of STRIDE policies: merging service defaults, refusing undeclared or
/// inconsistent properties (naming file, service, method and property), and embedding the table.
@Suite struct PolicyTests {
    /// Renders `source` (which imports policy.proto) with the project's proto/ folder importable.
    func generate(_ source: String, parameter: String? = nil) throws -> Google_Protobuf_Compiler_CodeGeneratorResponse {
        let root = FileManager.default.temporaryDirectory.appending(path: "bastion-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appending(path: "bastion/policy/v1"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(
            at: Protoc.repositoryRoot.appending(path: "proto/bastion/policy/v1/policy.proto"),
            to: root.appending(path: "bastion/policy/v1/policy.proto")
        )
        try source.write(to: root.appending(path: "svc.proto"), atomically: true, encoding: .utf8)
        return CodeGenerator.generate(try Protoc.request(files: ["svc.proto"], root: root, parameter: parameter))
    }

    static let fullDefaults = """
        option (bastion.policy.v1.default_policy) = {
          authentication: { statement: "Only local clients" caller: CALLER_LOCAL_CLIENT }
          integrity: { statement: "Bounded" checks: { max_request_bytes: 1024 } }
          non_repudiation: { statement: "Audited" audit_log: true }
          confidentiality: { statement: "Not a risk. Nothing secret" not_a_risk: true }
          availability: { statement: "Always available" }
          authorization: { statement: "Own queue only" owned_resource_field: "queue.owner" }
          spam_prevention: {
            statement: "Limited"
            rate_limits: { key: KEY_REQUEST_FIELD field: "queue.owner" limit: 5 period_seconds: 60 }
          }
        };
        """

    func service(_ body: String, defaults: String = fullDefaults) -> String {
        """
        syntax = "proto3";
        package demo.v1;
        import "bastion/policy/v1/policy.proto";
        message Queue { string owner = 1; }
        message Request { Queue queue = 1; bytes sealed = 2; repeated string tags = 3; optional uint64 number = 4; }
        message Response {}
        service Queues {
          \(defaults)
          \(body)
        }
        """
    }

    @Test func serviceDefaultsFillEveryMethodAndMethodsOverrideWholeProperties() throws {
        let response = try generate(service("""
            rpc Read(Request) returns (Response);
            rpc Write(Request) returns (Response) {
              option (bastion.policy.v1.policy) = {
                authentication: { statement: "A logged-in user, with a second factor" caller: CALLER_LOGGED_IN_USER second_factor: true }
              };
            }
            """))
        #expect(response.error == nil, "\(response.error ?? "")")
        let code = try #require(response.file.first?.content)
        #expect(code.contains("public static let read = MethodDescriptor(service: serviceName, method: \"Read\", kind: .unary, policy: Bastion_Policy_V1_MethodPolicy(generated: ["))

        // The embedded bytes decode to the merged policy.
        func policy(of method: String) throws -> Bastion_Policy_V1_MethodPolicy {
            let line = try #require(code.split(separator: "\n").first { $0.contains("method: \"\(method)\"") })
            let list = try #require(line.split(separator: "[").last?.split(separator: "]").first)
            let bytes = list.split(separator: ",").map { UInt8($0.trimmingCharacters(in: .whitespaces))! }
            return Bastion_Policy_V1_MethodPolicy(generated: bytes)
        }
        #expect(try policy(of: "Read").authentication?.caller == .localClient)
        #expect(try policy(of: "Write").authentication?.caller == .loggedInUser)
        #expect(try policy(of: "Write").authentication?.secondFactor == true)
        #expect(try policy(of: "Write").spamPrevention?.rateLimits.first?.limit == 5)
    }

    @Test func aMethodWithoutPolicyIsRefused() throws {
        let response = try generate(service("rpc Read(Request) returns (Response);", defaults: ""))
        let error = try #require(response.error)
        #expect(error.hasPrefix("svc.proto: demo.v1.Queues.Read: declares no policy"), "\(error)")
        #expect(response.file.isEmpty)
    }

    @Test func aMissingPropertyIsNamed() throws {
        let defaults = Self.fullDefaults.replacingOccurrences(of: "availability: { statement: \"Always available\" }", with: "")
        let response = try generate(service("rpc Read(Request) returns (Response);", defaults: defaults))
        let error = try #require(response.error)
        #expect(error == "svc.proto: demo.v1.Queues.Read: policy property 'availability' is not declared (declare it on the method or in the service's default_policy)")
    }

    @Test(arguments: [
        ("authentication: { statement: \"x\" }", "policy property 'authentication' names no caller"),
        ("authentication: { statement: \"x\" not_a_risk: true caller: CALLER_LOCAL_CLIENT }", "policy property 'authentication' is 'not a risk' but also requires"),
        ("authorization: { statement: \"x\" owned_resource_field: \"queue.nobody\" }", "has no field 'nobody'"),
        ("authorization: { statement: \"x\" owned_resource_field: \"sealed.owner\" }", "'sealed' is not a message"),
        ("spam_prevention: { statement: \"x\" rate_limits: { key: KEY_PEER_ADDRESS } }", "rate limit without a key, a limit or a period"),
        ("integrity: { statement: \"x\" checks: { sealed_envelope_field: \"missing\" } }", "has no field 'missing'"),
        ("non_repudiation: { statement: \"x\" not_a_risk: true audit_log: true }", "is 'not a risk' but also declares requirements"),
        ("confidentiality: { statement: \"\" not_a_risk: true }", "policy property 'confidentiality' needs a statement"),
        ("authorization: { statement: \"x\" owned_resource_field: \"queue\" }", "policies read only string, bytes and integer fields"),
        ("integrity: { statement: \"x\" checks: { sealed_envelope_field: \"queue.owner\" } }", "neither bytes nor bastion.rpc.v1.SealedEnvelope"),
        ("authorization: { statement: \"x\" owned_resource_field: \"tags\" }", "'tags' is repeated"),
    ])
    func inconsistentPropertiesAreRefused(override: String, expected: String) throws {
        let response = try generate(service("""
            rpc Read(Request) returns (Response) {
              option (bastion.policy.v1.policy) = { \(override) };
            }
            """))
        let error = try #require(response.error)
        #expect(error.contains("demo.v1.Queues.Read"), "\(error)")
        #expect(error.contains(expected), "\(error)")
    }

    @Test func theRequestFieldsAPolicyNamesAreReadForTheEngine() throws {
        let response = try generate(service("""
            rpc Read(Request) returns (Response) {
              option (bastion.policy.v1.policy) = {
                integrity: { statement: "Sealed" checks: { sealed_envelope_field: "sealed" } }
                spam_prevention: {
                  statement: "Limited"
                  rate_limits: { key: KEY_REQUEST_FIELD field: "number" limit: 5 period_seconds: 60 }
                }
              };
            }
            rpc Ping(Response) returns (Response) {
              option (bastion.policy.v1.policy) = {
                authorization: { statement: "Not a risk" not_a_risk: true }
                spam_prevention: { statement: "Not a risk" not_a_risk: true }
                integrity: { statement: "Not a risk" not_a_risk: true }
              };
            }
            """))
        #expect(response.error == nil, "\(response.error ?? "")")
        let code = try #require(response.file.first?.content)
        #expect(code.contains("""
                    // The request fields that Read's policy checks.
                    let readRequestFields: RPCRouter.RequestFields<Demo_V1_Request> = { request in
                        var fields: [String: RequestFieldValue] = [:]
                        if let value = request.queue?.owner { fields["queue.owner"] = .string(value) }
                        if let value = request.number { fields["number"] = .string(String(value)) }
                        fields["sealed"] = .bytes(request.sealed)
                        return fields
                    }
                    router.register(Demo_V1_Queues.Method.read) { transport, context, phase in
                        let request: Demo_V1_Request = try await RPCRouter.readRequest(transport, context, phase, requestFields: readRequestFields)
            """), "\(code)")
        #expect(code.contains("""
                    router.register(Demo_V1_Queues.Method.ping) { transport, context, phase in
                        let request: Demo_V1_Response = try await RPCRouter.readRequest(transport, context, phase, requestFields: nil)
            """), "\(code)")
    }

    @Test func streamingRequestsCannotBeCheckedByField() throws {
        let response = try generate(service("rpc Upload(stream Request) returns (Response);"))
        let error = try #require(response.error)
        #expect(error.contains("demo.v1.Queues.Upload: policy names request field 'queue.owner', but the method streams its requests"), "\(error)")
    }

    @Test func threatModelTables() throws {
        let response = try generate(service("rpc Read(Request) returns (Response);"), parameter: "ThreatModel=tm.md")
        #expect(response.error == nil, "\(response.error ?? "")")
        let document = try #require(response.file.first { $0.name == "tm.md" }?.content)
        #expect(document.contains("## demo.v1.Queues\n\n### Read (unary)\n\n| STRIDE property | Requirement | Remark |\n|---|---|---|\n"))
        #expect(document.contains("| Authentication | Only local clients<br>Checks: a client certificate issued by this server |  |"))
        #expect(document.contains("| Confidentiality | Not a risk. Nothing secret |  |"))
        #expect(document.contains("| Authorization | Own queue only<br>Checks: the caller owns the resource named by `queue.owner` |  |"))
        #expect(document.contains("| Spam prevention | Limited<br>Checks: at most 5 calls per 60 s per value of `queue.owner` |  |"))
        #expect(document.contains("| Availability | Always available<br>Checks: always available (no operator switch) |  |"))
    }

    @Test func policiesMayBeOptional() throws {
        let response = try generate(service("rpc Read(Request) returns (Response);", defaults: ""), parameter: "Policies=optional")
        #expect(response.error == nil)
        #expect(response.file.first?.content?.contains("method: \"Read\", kind: .unary)") == true)
    }

    @Test func builtinServicesCarryTheirPolicies() throws {
        let request = try Protoc.request(files: ["bastion/echo/v1/echo.proto"], root: Protoc.repositoryRoot.appending(path: "proto"))
        let response = CodeGenerator.generate(request)
        #expect(response.error == nil, "\(response.error ?? "")")
    }
}
