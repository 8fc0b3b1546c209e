import Testing
@testable import slothd

@Suite("Start-up pages")
struct StartupPagesTests {
    @Test("only read-only file mappings are released, never data, anonymous memory or the stack")
    func selection() {
        let maps = """
            55c3a6000000-55c3a8000000 r--p 00000000 fd:01 123 /usr/local/bin/slothd
            55c3a8000000-55c3aa000000 r-xp 02000000 fd:01 123 /usr/local/bin/slothd
            55c3aa000000-55c3aa100000 rw-p 04000000 fd:01 123 /usr/local/bin/slothd
            7f0000000000-7f0000100000 rw-p 00000000 00:00 0
            7f0000100000-7f0000200000 r--p 00000000 00:00 0
            7f0000200000-7f0000300000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
            """
        let selected = StartupPages.readOnlyFileMappings(maps)
        #expect(selected.map(\.start) == [0x55c3a6000000, 0x55c3a8000000, 0x7f0000200000])
        #expect(selected.map(\.length) == [0x2000000, 0x2000000, 0x100000])
    }
}
