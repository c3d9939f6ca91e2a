"""ebutool.stream.reader.read_ahead: the same items in the same order, pulled n at a time."""

from ebutool.stream.reader import read_ahead


def test_same_items_same_order_any_size():
    for n in (1, 3, 4096):
        for k in (0, 1, 5, 6, 7):
            assert list(read_ahead(range(k), n)) == list(range(k))


def test_pulls_a_batch_before_the_first_item_and_no_more():
    pulled = []

    def source():
        for i in range(10):
            pulled.append(i)
            yield i

    it = read_ahead(source(), 4)
    assert pulled == []  # lazy until asked
    assert next(it) == 0 and pulled == [0, 1, 2, 3]
    assert [next(it) for _ in range(3)] == [1, 2, 3] and len(pulled) == 4
    assert next(it) == 4 and len(pulled) == 8
    assert list(it) == [5, 6, 7, 8, 9]
