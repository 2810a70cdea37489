import Foundation

/// The Python a zygote runs once at start-up. It pre-imports the policy's modules and defines
/// `_azr_run(payload: bytes) -> bytes`, which each confined child calls with the job and whose marshalled
/// answer the zygote relays. Everything it uses is bound before untrusted code runs, so tampering with builtins
/// or modules inside a job cannot redirect the harness, and the child dies with the job anyway. Nothing it
/// reports is trusted: values come back as builtin reprs of exact literal types and are compared in Swift.
enum ZygotePrelude {
    static func source(for policy: SandboxPolicy) -> String {
        let modules = policy.preimport.map { "'\($0)'" }.joined(separator: ", ")
        let banned = policy.bannedImports.map { "'\($0)'" }.joined(separator: ", ")
        let extraPath = policy.pythonPath.map { "'\($0)'" }.joined(separator: ", ")
        return """
        import sys as _sys, builtins as _builtins, marshal as _marshal, time as _time
        _sys.path.extend([\(extraPath)])
        import linecache as _linecache, traceback as _traceback
        for _name in (\(modules)\(policy.preimport.count == 1 ? "," : "")):
            __import__(_name)
        del _name

        def _azr_make_runner():
            dumps, loads, perf = _marshal.dumps, _marshal.loads, _time.perf_counter
            builtins, real_import = _builtins, _builtins.__import__
            format_exception, linecache_cache = _traceback.format_exception, _linecache.cache
            BaseExc, Exc, type_, len_, str_, repr_ = BaseException, Exception, type, len, str, repr
            isinstance_, callable_, tuple_, dict_ = isinstance, callable, tuple, dict
            eval_, compile_ = eval, compile
            scalars = frozenset((type(None), bool, int, float, complex, str, bytes))
            sequences = frozenset((tuple, list, set, frozenset))
            banned = frozenset((\(banned)\(policy.bannedImports.count == 1 ? "," : "")))
            output_cap, value_cap = \(policy.outputCharacters), \(policy.valueCharacters)
            max_depth, max_nodes = \(policy.maxValueDepth), \(policy.maxValueNodes)
            lenient = \(policy.lenientValues ? "True" : "False")
            base_scalars = (bool, int, float, complex, str, bytes)
            base_rebuild = {int: int.__int__, float: float.__float__, str: str.__str__, bytes: bytes.__bytes__,
                             complex: lambda v: complex(complex.real.__get__(v), complex.imag.__get__(v)), bool: bool}

            class NotRebuildable(Exception):
                pass

            def rebuild(value, depth=0):
                # Subclasses of literal types as their bases, through the base types' own methods, so an
                # overridden __iter__ or __str__ is never consulted.
                kind = type_(value)
                if kind in scalars:
                    return value
                if depth > max_depth:
                    raise NotRebuildable()
                for base in base_scalars:
                    if isinstance_(value, base):
                        return base_rebuild[base](value)
                if isinstance_(value, dict_):
                    return {rebuild(k, depth + 1): rebuild(v, depth + 1) for k, v in dict_.items(value)}
                if isinstance_(value, list):
                    return [rebuild(v, depth + 1) for v in list.__iter__(value)]
                if isinstance_(value, tuple_):
                    return tuple_([rebuild(v, depth + 1) for v in tuple_.__iter__(value)])
                if isinstance_(value, frozenset):
                    return frozenset([rebuild(v, depth + 1) for v in frozenset.__iter__(value)])
                if isinstance_(value, set):
                    return set([rebuild(v, depth + 1) for v in set.__iter__(value)])
                raise NotRebuildable()

            class BannedImport(ImportError):
                pass

            def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
                if level == 0 and str_(name).partition('.')[0] in banned:
                    raise BannedImport(name)
                return real_import(name, globals, locals, fromlist, level)

            class Capture:
                def __init__(self):
                    self.parts, self.size, self.truncated = [], 0, False
                def write(self, text):
                    if type_(text) is not str_:
                        raise TypeError('write() argument must be str')
                    room = output_cap - self.size
                    if len_(text) > room:
                        self.truncated = True
                        text = text[:room] if room > 0 else ''
                    if text:
                        self.parts.append(text)
                        self.size += len_(text)
                    return len_(text)
                def flush(self):
                    pass
                def isatty(self):
                    return False
                def text(self):
                    return clean(''.join(self.parts))

            def clean(text):
                return text.encode('utf-8', 'backslashreplace').decode('utf-8')

            def safe_text(thunk, fallback):
                try:
                    value = thunk()
                    return clean(value[:2000]) if type_(value) is str_ else fallback
                except BaseExc:
                    return fallback

            def describe(error, with_traceback):
                kind = type_(error)
                name = safe_text(lambda: kind.__name__, '<exception>')
                message = safe_text(lambda: str_(error), '<unprintable>')
                found = {'type': name, 'message': message}
                if with_traceback:
                    # Registered only now: most jobs never format a traceback, and every dict write in a
                    # child copies a page inherited from the zygote.
                    for name, text in sources:
                        linecache_cache[name] = (len_(text), None, text.splitlines(True), name)
                    found['traceback'] = safe_text(
                        lambda: ''.join(format_exception(kind, error, error.__traceback__))[-4000:], None)
                return found

            def literal_problem(value):
                stack, seen = [(value, 0)], 0
                while stack:
                    item, depth = stack.pop()
                    seen += 1
                    if seen > max_nodes:
                        return 'more than %d elements' % max_nodes
                    if depth > max_depth:
                        return 'nested deeper than %d' % max_depth
                    kind = type_(item)
                    if kind in scalars:
                        continue
                    if kind in sequences:
                        stack.extend((element, depth + 1) for element in item)
                    elif kind is dict_:
                        for key, element in dict_.items(item):
                            stack.append((key, depth + 1))
                            stack.append((element, depth + 1))
                    else:
                        return safe_text(lambda: kind.__name__, '<type>')
                return None

            def hex_repr(value):
                kind = type_(value)
                if kind is int:
                    return hex(value)
                if kind is list:
                    return '[' + ', '.join([hex_repr(item) for item in value]) + ']'
                if kind is tuple:
                    inner = ', '.join([hex_repr(item) for item in value])
                    return '(' + inner + (',)' if len_(value) == 1 else ')')
                if kind is dict_:
                    return '{' + ', '.join([hex_repr(k) + ': ' + hex_repr(v) for k, v in dict_.items(value)]) + '}'
                if kind is set or kind is frozenset:
                    if not value:
                        return kind.__name__ + '()'
                    inner = '{' + ', '.join([hex_repr(item) for item in value]) + '}'
                    return inner if kind is set else 'frozenset(' + inner + ')'
                return repr_(value)

            def call(function, arguments, namespace):
                started = perf()
                if type_(arguments) is str_:
                    # Argument source the gym could not read as literals (a dataset's `''.join(['A'] * 20)`):
                    # evaluated here, in the confined child and the program's namespace, as `f(<text>)` would.
                    sources.append(('<input>', arguments))
                    try:
                        arguments = eval_(compile_('(' + arguments + '\\n,)', '<input>', 'eval'), namespace)
                    except BaseExc as error:
                        return {'raised': describe(error, True), 'seconds': perf() - started}
                try:
                    value = function(*arguments)
                except BaseExc as error:
                    return {'raised': describe(error, True), 'seconds': perf() - started}
                seconds = perf() - started
                problem = literal_problem(value)
                if problem is not None and lenient:
                    try:
                        value = rebuild(value)
                        problem = literal_problem(value)
                    except BaseExc:
                        text = safe_text(lambda: repr_(value), None)
                        if text is None:
                            return {'not_literal': problem}
                        return {'opaque': text, 'seconds': seconds}
                if problem is not None:
                    return {'not_literal': problem}
                try:
                    text = repr_(value)
                except ValueError:
                    # An int past Python's digit limit: decimal conversion is quadratic, hex is linear and
                    # still a literal the gym reads.
                    try:
                        text = hex_repr(value)
                    except BaseExc as error:
                        return {'not_literal': 'repr failed: ' + describe(error, False)['type']}
                except BaseExc as error:
                    return {'not_literal': 'repr failed: ' + describe(error, False)['type']}
                if len_(text) > value_cap:
                    return {'too_large': len_(text)}
                return {'value': text, 'seconds': seconds}

            sources = []

            set_int_max_str_digits = _sys.set_int_max_str_digits

            def run(payload):
                del sources[:]
                set_int_max_str_digits(\(policy.intMaxStrDigits))
                job = loads(payload)
                out, err = Capture(), Capture()
                _sys.stdout, _sys.stderr, _sys.stdin = out, err, None
                builtins.__import__ = guarded_import
                report = {'status': 'completed', 'calls': []}
                namespace = {'__name__': '__main__', '__builtins__': builtins}
                source = job['program']
                sources.append(('<program>', source))
                try:
                    try:
                        code = compile(source, '<program>', 'exec')
                    except (SyntaxError, ValueError) as error:
                        report['status'] = 'syntax_error'
                        report['error'] = describe(error, False)
                        return finish(report, out, err)
                    try:
                        exec(code, namespace)
                    except BannedImport as error:
                        report['status'], report['module'] = 'banned_import', describe(error, False)['message']
                        return finish(report, out, err)
                    except BaseExc as error:
                        report['status'], report['error'] = 'raised', describe(error, True)
                        return finish(report, out, err)
                    calls = job.get('calls')
                    if calls is not None:
                        function = namespace.get(job['entry'])
                        if not callable_(function):
                            report['status'] = 'missing_entry_point'
                            return finish(report, out, err)
                        report['calls'] = [call(function, arguments, namespace) for arguments in calls]
                    test = job.get('test')
                    if test is not None:
                        sources.append(('<test>', test))
                        try:
                            exec(compile(test, '<test>', 'exec'), namespace)
                        except BaseExc as error:
                            report['status'], report['error'] = 'raised', describe(error, True)
                except BaseExc as error:
                    report['status'], report['error'] = 'raised', describe(error, False)
                return finish(report, out, err)

            def finish(report, out, err):
                report['stdout'], report['stderr'] = out.text(), err.text()
                report['truncated'] = out.truncated or err.truncated
                # marshal, not json: a child's first json.dumps goes through the Python-level encoder and
                # copies about fifty inherited pages; marshal is one C call. Version 2 has no back-references.
                return dumps(report, 2)

            return run

        _azr_run = _azr_make_runner()
        del _azr_make_runner

        def _azr_make_script_runner():
            import io, types
            sys, builtins, traceback, linecache, loads = _sys, _builtins, _traceback, _linecache, _marshal.loads
            FileIO, Reader, Writer, Text = io.FileIO, io.BufferedReader, io.BufferedWriter, io.TextIOWrapper
            default_digits = sys.int_info.default_max_str_digits

            def stream(fd, writing, errors):
                # As python3 sets them up over pipes, but line-buffered: a program killed at its deadline keeps
                # every line it printed.
                raw = FileIO(fd, 'w' if writing else 'r', closefd=False)
                return Text(Writer(raw) if writing else Reader(raw), encoding='utf-8', errors=errors,
                            line_buffering=writing)

            def exit_status(code):
                if code is None:
                    return 0
                if isinstance(code, int):
                    return code & 0xff
                try:
                    print(code, file=sys.stderr)
                except BaseException:
                    pass
                return 1

            def run(payload, stdio=(0, 1, 2)):
                job = loads(payload)
                source, directory = job['source'], job['directory']
                sys.set_int_max_str_digits(default_digits)
                out, err = stream(stdio[1], True, 'strict'), stream(stdio[2], True, 'backslashreplace')
                sys.stdin = sys.__stdin__ = stream(stdio[0], False, 'strict')
                sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__ = out, err, out, err
                sys.argv = ['main.py']
                if directory is not None:
                    sys.path.insert(0, directory)
                builtins.exit = builtins.quit = sys.exit
                # Each python3 run seeds random afresh; children of one zygote would otherwise share its state.
                random = sys.modules.get('random')
                if random is not None:
                    random.seed()
                main = types.ModuleType('__main__')
                main.__builtins__ = builtins
                sys.modules['__main__'] = main
                name = 'main.py' if directory is None else directory + '/main.py'
                linecache.cache[name] = (len(source), None, source.splitlines(True), name)
                status = 0
                try:
                    code = compile(source, name, 'exec')
                except BaseException as error:
                    traceback.print_exception(type(error), error, None)
                    status = 1
                else:
                    try:
                        exec(code, main.__dict__)
                    except SystemExit as exit:
                        status = exit_status(exit.code)
                    except BaseException as error:
                        # The program's frames only, as python3 prints them.
                        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
                        status = 1
                for each in (out, err):
                    try:
                        each.flush()
                    except BaseException:
                        pass
                return status

            return run

        _azr_script = _azr_make_script_runner()
        del _azr_make_script_runner

        # The same for the script runner, on /dev/null and a sample that touches what most programs do (stdin,
        # print, an exception): children then neither specialise its bytecode again nor refill the type caches.
        def _azr_warm_scripts():
            import os
            saved = (_sys.stdin, _sys.stdout, _sys.stderr, _sys.__stdin__, _sys.__stdout__, _sys.__stderr__,
                     _sys.argv, list(_sys.path), _sys.modules['__main__'], dict(_linecache.cache),
                     _builtins.__dict__.get('exit'), _builtins.__dict__.get('quit'))
            sample = _marshal.dumps({'source': 'import sys\\ndata = sys.stdin.read()\\nprint(len(data), sum(range(10)))\\n'
                                               'try:\\n    int("x")\\nexcept ValueError as e:\\n    print(e)\\n',
                                     'directory': None})
            null = os.open('/dev/null', os.O_RDWR)
            try:
                for _ in range(64):
                    _azr_script(sample, (null, null, null))
            finally:
                os.close(null)
                (_sys.stdin, _sys.stdout, _sys.stderr, _sys.__stdin__, _sys.__stdout__, _sys.__stderr__,
                 _sys.argv, _sys.path[:], _sys.modules['__main__'], cache, exit, quit) = saved
                _linecache.cache.clear()
                _linecache.cache.update(cache)
                for name, value in (('exit', exit), ('quit', quit)):
                    if value is None:
                        _builtins.__dict__.pop(name, None)
                    else:
                        setattr(_builtins, name, value)
        _azr_warm_scripts()
        del _azr_warm_scripts

        # CPython 3.11 specialises bytecode in place during a function's first runs. Running the harness here
        # on a trusted sample means children inherit it already specialised instead of each copying the code
        # objects' pages to write the same counters again.
        def _azr_warm():
            sample = _marshal.dumps({
                'program': 'def f(a, b=2):\\n    if a == 0:\\n        raise ValueError(a)\\n    print(a)\\n'
                           '    return [a, b, {"k": (a, 1.5, None)}, {3}]\\n',
                'entry': 'f', 'calls': [('x',), (1, 2), (0,)], 'test': None})
            saved = _sys.stdout, _sys.stderr, _sys.stdin, _builtins.__import__
            try:
                for _ in range(64):
                    _azr_run(sample)
            finally:
                _sys.stdout, _sys.stderr, _sys.stdin, _builtins.__import__ = saved
        _azr_warm()
        del _azr_warm
        # Everything above is shared copy-on-write with every child. Frozen objects are never scanned by the
        # cyclic GC, so a collection in a child does not fault in (and copy) the whole inherited heap.
        import gc as _gc
        _gc.collect()
        _gc.freeze()
        """
    }
}
