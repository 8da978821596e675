// Corpus.swift: locating the shared reference corpus from tests (../shared beside the checkout).
import Foundation

public enum Corpus {
    /// Repository root, found from this file's path.
    public static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    public static var sharedDir: URL { repoRoot.deletingLastPathComponent().appendingPathComponent("shared") }
    public static var pcapDir: URL { sharedDir.appendingPathComponent("corpus/pcap") }
    public static var pcaps: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: pcapDir, includingPropertiesForKeys: nil)) ?? [])
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
