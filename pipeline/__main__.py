from pipeline.service import main

main()
