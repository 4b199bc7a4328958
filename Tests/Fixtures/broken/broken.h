/* Fixture: a header the importer cannot read. */
typedef struct {
    int a;
    undeclared_type_t b;
} Broken;
