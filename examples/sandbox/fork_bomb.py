# Hostile: reaches the posix module without importing anything, then forks forever.
# The sandbox's seccomp filter kills the child at its first fork.
P = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "BuiltinImporter"][0].load_module


def f():
    while True:
        P("posix").fork()
