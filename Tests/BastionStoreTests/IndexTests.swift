import BastionStore
import Testing

@Suite struct IndexTests {
    static let byEmail = Index<String, String, Account>("accounts.by-email", unique: true) { $0.email }
    static let byGroup = Index<String, String, Account>("accounts.by-group", keys: { $0.groups })
    static let accounts = Table<String, Account>("accounts", indexes: [byEmail, byGroup])

    @Test func uniqueIndexFindsTheRow() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn throws in
                try txn.put(Self.accounts, "alice", Account(email: "alice@example.com", groups: ["staff"]))
                try txn.put(Self.accounts, "bob", Account(email: "bob@example.com", groups: ["staff", "ops"]))
            }
            try store.withReadTransaction { txn throws in
                let alice = try #require(try txn.lookup(Self.byEmail, "alice@example.com", in: Self.accounts))
                #expect(alice.key == "alice")
                #expect(alice.value.groups == ["staff"])
                #expect(try txn.lookup(Self.byEmail, "carol@example.com", in: Self.accounts) == nil)
            }
        }
    }

    @Test func uniqueIndexRefusesADuplicateAndWritesNothing() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn throws in
                try txn.put(Self.accounts, "alice", Account(email: "shared@example.com"))
                let error = try #require(throws: StoreError.self) {
                    try txn.put(Self.accounts, "bob", Account(email: "shared@example.com", groups: ["ops"]))
                }
                #expect(error.code == .alreadyExists)
                #expect(error.message.contains("accounts.by-email"))
                // Nothing of the refused write happened, in the table or in the other index.
                #expect(try txn.get(Self.accounts, "bob") == nil)
                #expect(try txn.primaryKeys(Self.byGroup, "ops").isEmpty)
                // The same row may keep its own index key.
                try txn.put(Self.accounts, "alice", Account(email: "shared@example.com", groups: ["new"]))
            }
        }
    }

    @Test func nonUniqueIndexListsEveryRow() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(Self.accounts, "carol", Account(email: "c@x", groups: ["staff"]))
                try txn.put(Self.accounts, "alice", Account(email: "a@x", groups: ["staff", "ops"]))
                try txn.put(Self.accounts, "bob", Account(email: "b@x", groups: ["ops", "ops"]))
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.primaryKeys(Self.byGroup, "staff") == ["alice", "carol"])
                #expect(try txn.lookupAll(Self.byGroup, "ops", in: Self.accounts).map(\.key) == ["alice", "bob"])
                #expect(try txn.lookupAll(Self.byGroup, "ops", in: Self.accounts, limit: 1).map(\.key) == ["alice"])
                #expect(try txn.primaryKeys(Self.byGroup, "op").isEmpty)
                #expect(try txn.primaryKeys(Self.byGroup, "nobody").isEmpty)
            }
        }
    }

    @Test func updatesAndDeletesMoveIndexEntries() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(Self.accounts, "alice", Account(email: "old@x", groups: ["a", "b"]))
                try txn.update(Self.accounts, "alice") { account in
                    account.email = "new@x"
                    account.groups = ["b", "c"]
                }
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.lookup(Self.byEmail, "old@x", in: Self.accounts) == nil)
                #expect(try txn.lookup(Self.byEmail, "new@x", in: Self.accounts)?.key == "alice")
                #expect(try txn.primaryKeys(Self.byGroup, "a").isEmpty)
                #expect(try txn.primaryKeys(Self.byGroup, "b") == ["alice"])
                #expect(try txn.primaryKeys(Self.byGroup, "c") == ["alice"])
            }
            // The old address is free again.
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(Self.accounts, "bob", Account(email: "old@x"))
                #expect(try txn.delete(Self.accounts, "alice"))
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.lookup(Self.byEmail, "new@x", in: Self.accounts) == nil)
                #expect(try txn.primaryKeys(Self.byGroup, "b").isEmpty)
                #expect(try txn.count(Table<[UInt8], [UInt8]>("accounts.by-email")) == 1)
                #expect(try txn.count(Table<[UInt8], [UInt8]>("accounts.by-group")) == 0)
            }
            try store.withWriteTransactionBlocking { txn in try txn.removeAll(Self.accounts) }
            try store.withReadTransaction { txn throws in
                #expect(try txn.count(Table<[UInt8], [UInt8]>("accounts.by-email")) == 0)
            }
        }
    }
}
