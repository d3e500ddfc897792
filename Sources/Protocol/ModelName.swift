/// The names a device's model store gives its models: a push's manifest and a model command name one.
public enum ModelName {
    /// Letters, digits, `-`, `_` and `.`, at most 64 bytes, not starting with a dot: a name that is
    /// one file in the store (`<name>.hlq`) and can never climb out of it or hide as a dot file.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }
}
