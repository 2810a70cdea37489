# The seed task of every AZR buffer: deduction asks what f("Hello world") returns.
def f(a):
    return a
