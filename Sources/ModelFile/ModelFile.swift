// ModelFile: reading and writing model files.
//
// Start at GGUFFile.swift: it maps a llama.cpp GGUF file (MappedFile.swift), walks its header,
// metadata (GGUFValue+Reading.swift) and tensor directory (GGUFTensorInfo+Reading.swift) with a
// bounds-checked cursor (GGUFCursor.swift), and hands out tensor bytes in place. Dequantize*.swift
// turn those bytes into floats, one file per family of ggml storage formats (GGMLType.swift).
