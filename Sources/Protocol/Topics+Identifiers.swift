extension Topics {
    /// Letters, digits, `-`, `_`, `.` and `:`: the characters device ids, groups and request ids
    /// may use, so none of them can add a topic level or a wildcard.
    public static func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.:".unicodeScalars.contains(scalar))
    }

    /// 1 to `maxLength` bytes of `isIdentifierScalar` characters.
    public static func isIdentifier(_ text: String, maxLength: Int = 64) -> Bool {
        !text.isEmpty && text.utf8.count <= maxLength && text.unicodeScalars.allSatisfy(isIdentifierScalar)
    }
}
