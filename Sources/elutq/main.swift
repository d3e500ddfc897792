print("elutq")
