"""A hint for the compiled kernels: fetch an entry's cache line before it is read.

Kernels that read a large table at random (a whole city's storefront memories, say) wait for
each read in turn when the loop around it is long or branches on what it read: the
processor cannot run far enough ahead to overlap the misses. :func:`prefetch` asks for the
line early, so that a first loop over a block of entries issues all their misses at once
and the loop that reads them finds them in the cache. It changes no result: a prefetch is
only a hint (never a fault, even at an address outside the array).
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["PREFETCH_BLOCK", "prefetch"]

PREFETCH_BLOCK = 2048
"""Entries whose lines the kernels ask for at once, before a loop reads them (a block's
lines stay in the processor's second-level cache)."""


@intrinsic
def prefetch(typingctx: Any, array: types.Array, index: types.Integer) -> Any:
    """Fetch the cache line of ``array[index]`` (a 1-D array, any integer index; not checked)
    for reading, into every level of the cache (LLVM's ``llvm.prefetch``, locality 3)."""
    if not isinstance(array, types.Array) or array.ndim != 1:
        return None
    if not isinstance(index, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        byte_pointer = ir.PointerType(ir.IntType(8))
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # Read (0), most local (3), data cache (1).
        builder.call(
            function,
            [
                builder.bitcast(pointer, byte_pointer),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return types.void(array, index), codegen
