"""The rules of the day, one module per phase of docs/model.md section 3.5.

Each module holds one phase's rule, written once (compiled with numba where the work is per
element), as functions of the state they read and write, the phase's random stream and the
scenario's parameters. None of them imports the engine (:mod:`laotie.engine.engine`), which
calls them in the order of the day:

=====================  =============================================================
module                 phase (docs/model.md 3.5)
=====================  =============================================================
:mod:`.training`       creator training
:mod:`.shock`          a product turns out bad (质量事件)
:mod:`.month`          the month's budgets and the repurchase rates
:mod:`.activity`       who opens the app today
:mod:`.posts`          creators' posts and their reach
:mod:`.follow`         posts seen by followers
:mod:`.discovery`      posts shown to non-followers
:mod:`.storefront`     ad impressions and price comparison (比价)
:mod:`.word_of_mouth`  recommendations (口碑)
:mod:`.decisions`      the purchase logit, baskets and budgets
:mod:`.outcomes`       satisfaction, trust, memory, follows, money, producers
:mod:`.information`    government information and the last mile
=====================  =============================================================
"""
