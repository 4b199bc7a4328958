func generate(_ options: Options) throws -> Int32 { 0 }
