import Testing
@testable import slothd

@Suite("Start-up pages")
struct StartupPagesTests {
    @Test("only clean read-only file mappings are released: never data, relocated RELRO, anonymous memory or the stack")
    func selection() {
        func mapping(_ header: String, dirty: Int) -> String {
            "\(header)\nSize:               1024 kB\nRss:                 512 kB\nPrivate_Dirty:      \(dirty) kB\nSwap:                  0 kB"
        }
        let smaps = [
            mapping("55c3a6000000-55c3a8000000 r--p 00000000 fd:01 123 /usr/local/bin/slothd", dirty: 0),
            mapping("55c3a8000000-55c3aa000000 r-xp 02000000 fd:01 123 /usr/local/bin/slothd", dirty: 0),
            mapping("55c3aa000000-55c3aa100000 r--p 04000000 fd:01 123 /usr/local/bin/slothd", dirty: 984),
            mapping("55c3aa100000-55c3aa200000 rw-p 04100000 fd:01 123 /usr/local/bin/slothd", dirty: 396),
            mapping("7f0000000000-7f0000100000 rw-p 00000000 00:00 0", dirty: 1024),
            mapping("7f0000100000-7f0000200000 r--p 00000000 00:00 0", dirty: 0),
            mapping("7f0000200000-7f0000300000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6", dirty: 0),
            mapping("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]", dirty: 16),
        ].joined(separator: "\n")
        let selected = StartupPages.cleanReadOnlyFileMappings(smaps)
        #expect(selected.map(\.start) == [0x55c3a6000000, 0x55c3a8000000, 0x7f0000200000])
        #expect(selected.map(\.length) == [0x2000000, 0x2000000, 0x100000])
    }
}
